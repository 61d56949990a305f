package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzScanBytes scans arbitrary bytes: no panic, findings whose lines
// exist, and every value masked in the lines shown.
func FuzzScanBytes(f *testing.F) {
	paths, _ := filepath.Glob("testdata/rules/*.txtar")
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range a.Files {
			f.Add(strings.SplitN(file.Name, "/", 2)[1], file.Data)
		}
	}
	if b, err := os.ReadFile("testdata/rules/private-key.txtar"); err == nil {
		f.Add("x", b)
	}
	f.Add("a/.npmrc", []byte("_auth=\n_authToken=x\r\n"))
	f.Add("b", []byte("-----BEGIN PRIVATE KEY-----\\n"+strings.Repeat("A", 70)+"\\n-----END PRIVATE KEY-----"))
	s, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	// plain runs every rule's regex on the whole text: what the keyword
	// prefilter and the line windows must not change.
	plain, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	plain.keywords = &keywordIndex{indexed: make([]bool, len(plain.rules))}
	f.Fuzz(func(t *testing.T, path string, content []byte) {
		fs := s.ScanBytes(path, content)
		hits := s.hits(path, content)
		if !slices.EqualFunc(hits, plain.hits(path, content), func(a, b hit) bool {
			return a.rule.ID == b.rule.ID && a.start == b.start && a.end == b.end
		}) {
			t.Fatalf("the prefilter changes what is found: %v vs %v", hits, plain.hits(path, content))
		}
		if len(fs) != len(hits) {
			t.Fatalf("%d findings for %d values", len(fs), len(hits))
		}
		masked := mask(content, hits)
		for _, h := range hits {
			if v := masked[h.start:h.end]; len(bytes.Trim(v, "*\r\n")) != 0 {
				t.Fatalf("value not masked: %q", v)
			}
		}
		lines := lineStarts(masked)
		for _, x := range fs {
			if x.StartLine < 1 || x.EndLine < x.StartLine || x.EndLine > len(lines) {
				t.Fatalf("lines %d-%d of %d", x.StartLine, x.EndLine, len(lines))
			}
			for _, l := range x.Code.Lines {
				want, _ := lineText(masked, lines, l.Number-1)
				if l.Content != want || !utf8.ValidString(l.Content) {
					t.Fatalf("line %d: %q, want %q", l.Number, l.Content, want)
				}
			}
		}
	})
}
