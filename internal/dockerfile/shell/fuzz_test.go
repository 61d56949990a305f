package shell

import (
	"strings"
	"testing"
)

// FuzzParse: any text parses without a panic, in bounded work, and the
// commands reached through wrappers, sh -c and here-documents are named.
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
		for _, c := range s.Commands {
			if c.Reached && c.Name == "" { // ("" as written is a command word, as in bash)
				t.Fatalf("a reached command without a name: %+v", c)
			}
		}
		// Nesting is bounded: the commands cannot outgrow the text.
		if n := len(s.Commands); n > 4*(strings.Count(text, " ")+strings.Count(text, "\n")+2)*(maxNesting+1) {
			t.Fatalf("%d commands for %d bytes", n, len(text))
		}
	})
}
