package fix

import (
	"bytes"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// doc is one state of the file being fixed: its text and the parse of it.
// Every fix reads a doc and returns edits of its text, so that whatever no
// fix touches stays byte for byte as written.
type doc struct {
	src   []byte
	file  *dockerfile.File
	lines []int // lines[n] is the offset of line n (1-based); lines[len-1] = len(src)
	nl    string
	esc   byte
	// Worked out once per doc: whether RUN bodies are POSIX shell, and
	// the continuation style.
	posix bool
	sty   style
}

func newDoc(src []byte, f *dockerfile.File) *doc {
	d := &doc{src: src, file: f, nl: "\n", esc: '\\'}
	d.lines = []int{0, 0}
	for i, c := range src {
		if c == '\n' {
			d.lines = append(d.lines, i+1)
		}
	}
	if len(src) > 0 && src[len(src)-1] != '\n' {
		d.lines = append(d.lines, len(src))
	}
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		d.nl = "\r\n"
	}
	d.esc = escapeChar(src)
	d.posix = !d.findNonPOSIX()
	d.sty = d.findStyle()
	return d
}

// escapeChar reads the escape parser directive: the continuation character.
func escapeChar(src []byte) byte {
	for _, l := range bytes.Split(src, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) == 0 || t[0] != '#' {
			break
		}
		k, v, ok := strings.Cut(strings.TrimSpace(string(t[1:])), "=")
		if !ok {
			break
		}
		if strings.EqualFold(strings.TrimSpace(k), "escape") {
			if v = strings.TrimSpace(v); v == "`" {
				return '`'
			}
		}
	}
	return '\\'
}

// lineStart is the offset of line n; one past the last line gives len(src).
func (d *doc) lineStart(n int) int {
	if n >= len(d.lines) {
		return len(d.src)
	}
	return d.lines[n]
}

// span is the byte range of an instruction: its first line to the end of its
// last line, line ending included.
func (d *doc) span(in *dockerfile.Instruction) (int, int) {
	return d.lineStart(in.Line), d.lineStart(in.EndLine + 1)
}

// text is the source of an instruction without its final line ending.
func (d *doc) text(in *dockerfile.Instruction) string {
	s, e := d.span(in)
	return strings.TrimRight(string(d.src[s:e]), "\r\n")
}

// line returns line n without its line ending.
func (d *doc) line(n int) string {
	return strings.TrimRight(string(d.src[d.lineStart(n):d.lineStart(n+1)]), "\r\n")
}

// commentsAbove returns the comment lines between the previous instruction
// (or the start of the file) and in, skipping blank lines.
func (d *doc) commentsAbove(idx int) []int {
	in := d.file.Instructions[idx]
	from := 1
	if idx > 0 {
		from = d.file.Instructions[idx-1].EndLine + 1
	}
	var out []int
	for n := from; n < in.Line; n++ {
		if strings.HasPrefix(strings.TrimSpace(d.line(n)), "#") {
			out = append(out, n)
		}
	}
	return out
}

// hasPragmaAbove reports whether a hadolint or tollgate pragma stands
// between the previous instruction and instruction idx.
func (d *doc) hasPragmaAbove(idx int) bool {
	for _, n := range d.commentsAbove(idx) {
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d.line(n)), "#"))
		for _, p := range []string{"hadolint", "tollgate"} {
			if strings.HasPrefix(strings.ToLower(t), p) {
				return true
			}
		}
	}
	return false
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// apply returns src with the edits made. Edits must not overlap; an edit
// that does is dropped (the fix that made it is then simply not applied).
func apply(src []byte, edits []edit) []byte {
	slices.SortStableFunc(edits, func(a, b edit) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return a.end - b.end
	})
	var b bytes.Buffer
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			continue
		}
		b.Write(src[pos:e.start])
		b.WriteString(e.text)
		pos = e.end
	}
	b.Write(src[pos:])
	return b.Bytes()
}

// body maps the shell text of a shell-form RUN, CMD or ENTRYPOINT (what
// BuildKit hands to the shell) back to the source, so a fix can edit a
// single word in place.
type body struct {
	text string
	off  []int // off[i] is the source offset of text[i]; off[len(text)] is the end
	// start is the source offset where the text begins (after keyword
	// and flags).
	start int
}

// srcOff maps an offset in the text to the source.
func (b *body) srcOff(i int) int {
	if i >= len(b.off) {
		return b.off[len(b.off)-1]
	}
	return b.off[i]
}

// bodyOf joins the instruction's lines as BuildKit does (a trailing escape
// character and the blanks after it removed, comment and blank lines inside
// skipped) and locates its argument text. It fails for heredocs, exec form
// and anything the join does not reproduce exactly.
func (d *doc) bodyOf(in *dockerfile.Instruction, want string) (*body, bool) {
	if len(in.Heredocs) > 0 || in.JSON {
		return nil, false
	}
	var joined []byte
	var off []int
	for n := in.Line; n <= in.EndLine; n++ {
		ls := d.lineStart(n)
		l := d.line(n)
		if n > in.Line {
			t := strings.TrimLeft(l, " \t")
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
		}
		cont := false
		end := len(l)
		trimmed := strings.TrimRight(l, " \t")
		if n < in.EndLine && len(trimmed) > 0 && trimmed[len(trimmed)-1] == d.esc {
			end, cont = len(trimmed)-1, true
		}
		for i := 0; i < end; i++ {
			joined = append(joined, l[i])
			off = append(off, ls+i)
		}
		if !cont {
			off = append(off, ls+end)
			break
		}
	}
	if len(off) == len(joined) {
		off = append(off, d.lineStart(in.EndLine)+len(d.line(in.EndLine)))
	}
	j := strings.TrimRight(string(joined), " \t\r")
	i := strings.LastIndex(j, want)
	if want == "" || i < 0 || i+len(want) != len(j) {
		return nil, false
	}
	b := &body{text: want, off: off[i : i+len(want)+1], start: off[i]}
	return b, true
}
