package shell

import (
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
