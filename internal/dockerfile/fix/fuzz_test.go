package fix

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// FuzzFix fixes arbitrary input: for anything that parses, the output
// parses and fixing it again changes nothing, with the default fixes and
// with every fix.
func FuzzFix(f *testing.F) {
	for _, s := range []string{
		"FROM python\nRUN useradd python\nRUN mkdir /data/www -p\nCOPY . /data/www\nRUN chown -R python /data\nRUN pip install flask\nWORKDIR /data/www\nUSER python\nCMD python main.py\n",
		"FROM debian:12\nRUN apt-get update\n# c\nRUN apt-get install curl vim; true\nLABEL a=b\nRUN cd /x && make || exit 1\nCMD echo hi\n",
		"FROM alpine\nRUN apk update && apk add strace\nRUN --mount=type=cache,target=/x pip install a\nRUN <<EOF\nyum install x\nEOF\nENTRYPOINT exec a\n",
		"from busybox\nrun a \\\n  && b\nrun c &\ncopy x /y\nrun chown -R 1:1 /y",
		"# escape=`\nFROM mcr.microsoft.com/windows\nRUN a `\n  b\nRUN c\n",
		"\ufeffFROM a AS b\r\nRUN x\r\nFROM b\r\nRUN y # comment \\\r\n  z\r\n",
	} {
		f.Add([]byte(s))
	}
	seeds, _ := filepath.Glob("testdata/build/*/Dockerfile")
	// TestCorpusProperties already fixes the shared corpus twice over; as
	// seeds it only pays when fuzzing, not in every test run.
	if fz := flag.Lookup("test.fuzz"); fz != nil && fz.Value.String() != "" && sharedtest.Root() != "" {
		root := sharedtest.Root()
		more, _ := filepath.Glob(filepath.Join(root, "data", "dockerfiles", "*", "*"))
		seeds = append(seeds, more...)
	}
	for _, p := range seeds {
		if filepath.Base(p) == "SOURCES.md" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	var all []string
	for _, r := range Rules() {
		all = append(all, r.ID)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// A fix that runs away is a bug too: the check runs with a deadline
		// so the fuzzer records such an input instead of stalling.
		done := make(chan string, 1)
		go func() { done <- checkFix(src, all) }()
		select {
		case msg := <-done:
			if msg != "" {
				t.Fatal(msg)
			}
		case <-time.After(time.Minute):
			t.Fatalf("fix ran for over a minute on %q", src)
		}
	})
}

// checkFix returns what is wrong with fixing src, or "".
func checkFix(src []byte, all []string) string {
	if _, err := dockerfile.Parse("Dockerfile", src); err != nil {
		if _, err := Fix("Dockerfile", src, Options{}); err == nil {
			return "Fix accepted a file the parser refuses"
		}
		return ""
	}
	for _, opts := range []Options{{}, {Rules: all, Base: "alpine:3.20"}} {
		res, err := Fix("Dockerfile", src, opts)
		if err != nil {
			return fmt.Sprintf("Fix(%v): %v", opts, err)
		}
		if _, err := dockerfile.Parse("Dockerfile", res.Output); err != nil {
			return fmt.Sprintf("output does not parse: %v\n%s", err, res.Output)
		}
		again, err := Fix("Dockerfile", res.Output, opts)
		if err != nil {
			return err.Error()
		}
		if string(again.Output) != string(res.Output) {
			return fmt.Sprintf("not a fixed point:\n--- once\n%q\n--- twice\n%q", res.Output, again.Output)
		}
	}
	return ""
}
