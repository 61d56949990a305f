package output

import "testing"

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "FROM debian:12 # ünïcode ✓", "FROM debian:12 # ünïcode ✓"},
		{"ESC sequence", "x\x1b]0;pwned\x07y", `x\x1b]0;pwned\ay`},
		{"clear screen", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"CR overwrites the line", "ok\rFAKE", `ok\rFAKE`},
		{"newline fakes a line", "a\nDockerfile:1 DL3006", `a\nDockerfile:1 DL3006`},
		{"tab", "a\tb", `a\tb`},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`},
		{"C1 CSI", "a\u009b31mb", `a\x9b31mb`},
		{"bidi override", "admin\u202egnp.exe", `admin\u202egnp.exe`},
		{"invalid UTF-8", "a\xffb", `a\xffb`},
		{"backslash kept", `C:\path`, `C:\path`},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEscapeLines(t *testing.T) {
	if got, want := EscapeLines("one\x1b[31m\ntwo\a"), "one\\x1b[31m\ntwo\\a"; got != want {
		t.Errorf("EscapeLines = %q, want %q", got, want)
	}
}
