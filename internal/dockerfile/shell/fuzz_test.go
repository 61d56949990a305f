package shell

import (
	"strings"
	"testing"
)

// FuzzParse: any text parses without a panic, in bounded work, and the
// reached commands are counted apart from the written ones. (An empty
// command word, "" or sh -c '""', is a command with an empty name, as
// written or reached: the corpus keeps both.)
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"sudo apt-get install -y vim",
		"env A=1 nice -n 5 timeout 3 xargs -n1 rm",
		"sh -c 'bash -ec \"sudo apk add gdb\"'",
		"bash <<EOT\napt-get install vim\nEOT\n",
		"sh -e <<-EOT\n\tapk add curl\nEOT\n",
		"bash -o pipefail -s <<'E'\ncd /x && make\nE\n",
		"cat <<EOT | sh\nrm -rf /\nEOT\n",
		"sudo -u",
		"sh -c",
	} {
		f.Add(seed)
	}
	p := NewParser()
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<16 {
			return
		}
		s := p.Parse(text)
		if s.Written() > len(s.Commands) {
			t.Fatalf("Written %d > %d commands", s.Written(), len(s.Commands))
		}
		// Nesting is bounded: the commands cannot outgrow the text.
		if n := len(s.Commands); n > 4*(strings.Count(text, " ")+strings.Count(text, "\n")+2)*(maxNesting+1) {
			t.Fatalf("%d commands for %d bytes", n, len(text))
		}
	})
}
