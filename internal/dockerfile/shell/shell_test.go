package shell

import (
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommands(t *testing.T) {
	type c struct {
		Name string
		Args []string
	}
	tests := []struct {
		name   string
		script string
		want   []c
		pipe   bool
		err    bool
	}{
		{"and list", "apt-get update && apt-get install -y curl", []c{
			{"apt-get", []string{"update"}}, {"apt-get", []string{"install", "-y", "curl"}},
		}, false, false},
		{"quotes and escapes removed", `pip install "flask==3.0" 'a b' tomcat\>=9 "x\"y"`, []c{
			{"pip", []string{"install", "flask==3.0", "a b", "tomcat>=9", `x"y`}},
		}, false, false},
		{"expansions simplified", "echo $x ${y:-z} $(uname -m) `date` $((1+2))", []c{
			{"echo", []string{"${x}", "${y}", "${uname -m}", "${VAR}", "${VAR}"}},
			{"uname", []string{"-m"}},
			{"date", nil},
		}, false, false},
		{"pipe", "curl -s x | tar -xz", []c{{"curl", []string{"-s", "x"}}, {"tar", []string{"-xz"}}}, true, false},
		{"nested control flow", "if true; then (cd /x && make); fi; for i in a; do echo $i; done", []c{
			{"true", nil}, {"cd", []string{"/x"}}, {"make", nil}, {"echo", []string{"${i}"}},
		}, false, false},
		{"export is a command", "export A=1 B", []c{{"export", []string{"A=1", "B"}}}, false, false},
		{"assignment only is not a command", "A=1", nil, false, false},
		{"non-literal name left out", "$CMD --flag", nil, false, false},
		{"exec and busybox are looked through", "exec apt-get install x; busybox wget y", []c{
			{"apt-get", []string{"apt-get", "install", "x"}}, {"wget", []string{"wget", "y"}},
		}, false, false},
		{"command -v keeps its name", "command -v curl", []c{{"command", []string{"-v", "curl"}}}, false, false},
		{"quoted command name", `"apt-get" install x`, []c{{"apt-get", []string{"install", "x"}}}, false, false},
		{"parse error keeps nothing after it", `echo "unterminated`, nil, false, true},
	}
	p := NewParser()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := p.Parse(tt.script)
			if (s.Err != nil) != tt.err {
				t.Fatalf("Err = %v, want error: %v", s.Err, tt.err)
			}
			var got []c
			for _, x := range s.Commands {
				got = append(got, c{x.Name, x.Args})
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b)) })); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			if s.HasPipe != tt.pipe {
				t.Errorf("HasPipe = %v, want %v", s.HasPipe, tt.pipe)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	c := newCommand("apt-get", []string{"-yqq", "--no-install-recommends", "-t", "bookworm-backports", "--opt=v", "-", "--", "install", "curl"})
	if got, want := c.Flags(), []string{"y", "q", "q", "no-install-recommends", "t", "opt"}; !cmp.Equal(got, want) {
		t.Errorf("Flags() = %q, want %q", got, want)
	}
	if got, want := c.ArgsNoFlags(), []string{"bookworm-backports", "-", "--", "install", "curl"}; !cmp.Equal(got, want) {
		t.Errorf("ArgsNoFlags() = %q, want %q", got, want)
	}
	if c.FlagCount("q") != 2 || !c.HasFlag("y") || c.HasFlag("x") {
		t.Errorf("flag queries wrong on %q", c.Args)
	}
	d := c.DropFlagValues("t", "opt")
	if got, want := d.ArgsNoFlags(), []string{"-", "--", "install", "curl"}; !cmp.Equal(got, want) {
		t.Errorf("after DropFlagValues: %q, want %q (a --opt=v value stays attached)", got, want)
	}
	if !c.Is("apt-get", "install", "remove") || c.Is("apt-get", "remove") || c.Is("apt", "install") {
		t.Error("Is() wrong")
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		in     string
		double bool
		want   string
	}{
		{`a\ b`, false, "a b"},
		{`a\\b`, false, `a\b`},
		{`a\nb`, false, "anb"},
		{`a\nb`, true, `a\nb`},
		{`a\$b`, true, "a$b"},
		{"a\\\nb", false, "ab"},
		{`trailing\`, false, `trailing\`},
	}
	for _, tt := range tests {
		if got := unescape(tt.in, tt.double); got != tt.want {
			t.Errorf("unescape(%q, %v) = %q, want %q", tt.in, tt.double, got, tt.want)
		}
	}
}

// TestReachedCommands: commands run through wrappers, shells' -c scripts
// and here-documents fed to a shell are seen, after the command that
// reaches them, marked Reached; the command as written stays first.
func TestReachedCommands(t *testing.T) {
	p := NewParser()
	for _, tc := range []struct {
		name, script string
		want         []string // Name, "+" marking a reached one
	}{
		{"sudo", "sudo apt-get install -y vim", []string{"sudo", "+apt-get"}},
		{"sudo with options", "sudo -u app -E -- pip install x", []string{"sudo", "+pip"}},
		{"env with assignments and nice", "env -u X DEBIAN_FRONTEND=noninteractive nice -n 5 apt-get install vim", []string{"env", "+nice", "+apt-get"}},
		{"time (a keyword) and nohup", "time nohup curl -O x", []string{"nohup", "+curl"}},
		{"timeout's duration", "timeout -s KILL 30 wget x", []string{"timeout", "+wget"}},
		{"xargs", "find . | xargs -n 1 -I{} rm {}", []string{"find", "xargs", "+rm"}},
		{"sh -c", "sh -c 'apt-get update && apt-get install -y gdb'", []string{"sh", "+apt-get", "+apt-get"}},
		{"bash -ec", `bash -ec "cd /x; make"`, []string{"bash", "+cd", "+make"}},
		{"sudo sh -c", "sudo sh -c 'apk add strace'", []string{"sudo", "+sh", "+apk"}},
		{"bash reading a heredoc", "bash <<EOT\napt-get install -y vim\nEOT\n", []string{"bash", "+apt-get"}},
		{"sh -e with a tab-stripped heredoc", "sh -e <<-EOT\n\tapk add curl\nEOT\n", []string{"sh", "+apk"}},
		{"a heredoc that is data", "cat <<EOT > /etc/x\napt-get install vim\nEOT\n", []string{"cat"}},
		{"a script file with a heredoc", "bash run.sh <<EOT\napt-get install vim\nEOT\n", []string{"bash"}},
		{"not a wrapper", "sudoku apt-get", []string{"sudoku"}},
		{"a wrapper of nothing", "sudo -u app", []string{"sudo"}},
		{"a variable command", "sudo $CMD install", []string{"sudo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := p.Parse(tc.script)
			if s.Err != nil {
				t.Fatal(s.Err)
			}
			var got []string
			written := 0
			for _, c := range s.Commands {
				n := c.Name
				if c.Reached {
					n = "+" + n
				} else {
					written++
				}
				got = append(got, n)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("commands of %q (-want +got):\n%s", tc.script, diff)
			}
			if s.Written() != written {
				t.Errorf("Written() = %d, want %d", s.Written(), written)
			}
		})
	}
	// sudo's command keeps its arguments (TG103 reads the packages).
	s := p.Parse("sudo apt-get install -y vim")
	if c := s.Commands[1]; !c.Is("apt-get", "install") || !c.HasFlag("y") || !slices.Contains(c.ArgsNoFlags(), "vim") {
		t.Errorf("sudo's command = %+v", c)
	}
	// Scripts inside scripts stop at a depth: no end of recursion.
	deep := "vim"
	for range 20 {
		deep = "sh -c " + strconv.Quote(deep)
	}
	if s := p.Parse(deep); len(s.Commands) > 2*maxNesting+2 {
		t.Errorf("%d commands for nested sh -c: the nesting is not bounded", len(s.Commands))
	}
}
