package output

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape makes untrusted text (a file name, a Dockerfile line, a manifest
// field, an error quoting input) safe to print on a terminal: control
// characters that a terminal acts on — C0 (ESC, BEL, CR, LF, TAB…), DEL and
// C1 — and the Unicode controls that reorder what is displayed (bidi
// embeddings, overrides and isolates) are shown as Go escapes (\x1b, \n,
// \u202e), and bytes that are not UTF-8 as \xNN. Everything else, and a
// backslash, is left as it is. Every human-readable output uses it; JSON,
// XML and SARIF escape by their own rules.
func Escape(s string) string {
	i := strings.IndexFunc(s, needsEscape)
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case needsEscape(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// EscapeLines is Escape for text of several lines: each line is escaped and
// the line breaks (LF) are kept.
func EscapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "\n")
}

func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func escapeRune(r rune) string {
	switch r {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	if r < 0x100 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}
