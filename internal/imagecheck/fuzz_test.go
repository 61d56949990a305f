package imagecheck

import (
	"strings"
	"testing"
)

// FuzzParseHistory checks that any created_by line parses without a
// panic into a known instruction (or none) whose text comes from the line.
func FuzzParseHistory(f *testing.F) {
	for _, s := range []string{
		"/bin/sh -c #(nop)  ENV A=b", "/bin/sh -c #(nop) ADD file:4f6b in / ", "|2 A=1 B=2 /bin/sh -c make",
		"RUN |1 T=x /bin/sh -c ./b # buildkit", `RUN ["a", "b"] # buildkit`, "COPY a /b # buildkit",
		"RUN apt-get update", "|999999999999999999 x", "|3 A=1", "#(nop)", "/bin/sh -c ", "RUN [\"x\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st := ParseHistory(s)
		if st.Raw != s {
			t.Fatalf("Raw %q, want %q", st.Raw, s)
		}
		if st.Instruction != "" && !knownInstructions[st.Instruction] {
			t.Fatalf("unknown instruction %q from %q", st.Instruction, s)
		}
		if st.Instruction == "" && (st.Args != "" || st.BuildArgs != nil) {
			t.Fatalf("arguments without an instruction from %q: %+v", s, st)
		}
		if !st.Exec && !strings.Contains(s, st.Args) {
			t.Fatalf("Args %q are not in %q", st.Args, s)
		}
		for _, a := range st.BuildArgs {
			if !strings.Contains(a, "=") || !strings.Contains(s, a) {
				t.Fatalf("build argument %q from %q", a, s)
			}
		}
		_ = addSources(st.Args)
	})
}
