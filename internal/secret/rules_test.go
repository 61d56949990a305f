package secret

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// ruleCase is one testdata/rules/<id>.txtar: files under positive/ hold a
// made-up value the rule must find, files under negative/ near misses it
// must not; "secret: V" lines of the comment are raw values no output may
// contain.
type ruleCase struct {
	id       string
	secrets  []string
	pos, neg []txtar.File
}

func loadRuleCases(t *testing.T) []ruleCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/rules/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var out []ruleCase
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := ruleCase{id: strings.TrimSuffix(filepath.Base(p), ".txtar")}
		for _, l := range strings.Split(string(a.Comment), "\n") {
			if v, ok := strings.CutPrefix(l, "secret: "); ok {
				c.secrets = append(c.secrets, v)
			}
		}
		for _, f := range a.Files {
			switch {
			case strings.HasPrefix(f.Name, "positive/"):
				c.pos = append(c.pos, txtar.File{Name: strings.TrimPrefix(f.Name, "positive/"), Data: f.Data})
			case strings.HasPrefix(f.Name, "negative/"):
				c.neg = append(c.neg, txtar.File{Name: strings.TrimPrefix(f.Name, "negative/"), Data: f.Data})
			default:
				t.Fatalf("%s: file %s is neither positive/ nor negative/", p, f.Name)
			}
		}
		out = append(out, c)
	}
	return out
}

func newScanner(t testing.TB, o Options) *Scanner {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEveryRuleHasCases makes sure no rule goes without a true positive and
// a near miss.
func TestEveryRuleHasCases(t *testing.T) {
	have := map[string]bool{}
	for _, c := range loadRuleCases(t) {
		if len(c.pos) == 0 || len(c.neg) == 0 || len(c.secrets) == 0 {
			t.Errorf("%s: want positive and negative files and a secret line", c.id)
		}
		have[c.id] = true
	}
	for _, r := range BuiltinRules() {
		if !have[r.ID] {
			t.Errorf("rule %s has no testdata/rules/%s.txtar", r.ID, r.ID)
		}
	}
}

func TestRules(t *testing.T) {
	s := newScanner(t, Options{})
	for _, c := range loadRuleCases(t) {
		t.Run(c.id, func(t *testing.T) {
			for _, f := range c.pos {
				got := s.ScanBytes(f.Name, f.Data)
				if !slices.ContainsFunc(got, func(x Finding) bool { return x.RuleID == c.id }) {
					t.Errorf("positive %s: rule %s did not fire; findings: %v", f.Name, c.id, ids(got))
				}
				for _, x := range got {
					if x.Path != f.Name || x.StartLine < 1 || x.EndLine < x.StartLine || (!strings.Contains(x.Match, "*") && x.RuleID != "private-key") {
						t.Errorf("positive %s: malformed finding %+v", f.Name, x)
					}
				}
				assertMasked(t, got, c.secrets)
			}
			for _, f := range c.neg {
				got := s.ScanBytes(f.Name, f.Data)
				if slices.ContainsFunc(got, func(x Finding) bool { return x.RuleID == c.id }) {
					t.Errorf("negative %s: rule %s fired on a near miss: %+v", f.Name, c.id, got)
				}
			}
		})
	}
}

// assertMasked renders the findings every way a report can (JSON, Go's
// %v and %+v, each line's text) and fails if a raw value shows.
func assertMasked(t *testing.T, fs []Finding, secrets []string) {
	t.Helper()
	js, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{string(js), fmt.Sprintf("%v", fs), fmt.Sprintf("%+v", fs)}
	for _, f := range fs {
		forms = append(forms, f.Match)
		for _, l := range f.Code.Lines {
			forms = append(forms, l.Content, l.Highlighted)
		}
	}
	for _, sec := range secrets {
		for _, form := range forms {
			// A value's long tail (not only the whole) must not survive.
			if strings.Contains(form, sec) || (len(sec) >= 16 && strings.Contains(form, sec[len(sec)/2:])) {
				t.Fatalf("output contains the raw value %q:\n%s", sec, form)
			}
		}
	}
}

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	return out
}

func TestMaskedCodeLines(t *testing.T) {
	s := newScanner(t, Options{})
	key := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MjQy\n", 4) + "-----END RSA PRIVATE KEY-----\n"
	content := "line one\nline two\n" + key + "after one\nafter two\nafter three\n"
	got := s.ScanBytes("etc/key.pem", []byte(content))
	if len(got) != 1 {
		t.Fatalf("want one finding, got %v", ids(got))
	}
	f := got[0]
	if f.StartLine != 3 || f.EndLine != 8 {
		t.Errorf("lines %d-%d, want 3-8", f.StartLine, f.EndLine)
	}
	if len(f.Code.Lines) == 0 || f.Code.Lines[0].Number != 1 || f.Code.Lines[len(f.Code.Lines)-1].Number != 10 {
		t.Errorf("context lines: %+v", f.Code.Lines)
	}
	for _, l := range f.Code.Lines {
		if l.Number >= 4 && l.Number <= 7 && strings.Trim(l.Content, "*") != "" {
			t.Errorf("line %d not masked: %q", l.Number, l.Content)
		}
	}
	assertMasked(t, got, []string{"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MjQy"})
}

func TestAllowRules(t *testing.T) {
	s := newScanner(t, Options{})
	tok := "ghp_" + strings.Repeat("Ab3", 12)
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"app/main.go", true},
		{"src/testdata/token.txt", false},
		{"pkg/test/fixtures/token.txt", false},
		{"usr/share/doc/gh/README", false},
		{"app/test/token.txt", true}, // a test directory is not a fixture directory
	} {
		got := s.ScanBytes(tc.path, []byte("token="+tok+"\n"))
		if (len(got) > 0) != tc.want {
			t.Errorf("%s: findings %v, want found=%v", tc.path, ids(got), tc.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	s := newScanner(t, Options{})
	for _, v := range []string{"xxxx", "****", "<password>", "{{ .Token }}", "your_token_here", "password", "Secret", "changeme!"} {
		got := s.ScanBytes("app/a.env", []byte("DB_PASSWORD="+v+"\n"))
		if want := v == "changeme!"; (len(got) > 0) != want {
			t.Errorf("%q: findings %v, want reported=%v", v, ids(got), want)
		}
	}
}

func TestScanFileLimits(t *testing.T) {
	s := newScanner(t, Options{MaxFileSize: 100})
	tok := "token=ghp_" + strings.Repeat("Ab3", 12) + "\n"
	if _, err := s.ScanFile("a", strings.NewReader(tok+strings.Repeat("x", 100))); err != ErrTooLarge {
		t.Errorf("large file: err %v, want ErrTooLarge", err)
	}
	if _, err := s.ScanFile("a", strings.NewReader("\x00\x01"+tok)); err != ErrBinary {
		t.Errorf("binary file: err %v, want ErrBinary", err)
	}
	got, err := s.ScanFile("a", strings.NewReader(tok))
	if err != nil || len(got) != 1 {
		t.Errorf("small text file: %v, %v", ids(got), err)
	}
}

func TestScanTree(t *testing.T) {
	dir := t.TempDir()
	write := func(p, body string) {
		t.Helper()
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tok := "ghp_" + strings.Repeat("Zy9", 12)
	write("src/app.env", "GITHUB="+tok+"\n")
	write("src/logo.png", "\x89PNG\x00\x00"+tok)
	write("big.txt", strings.Repeat("a", 200)+tok)
	write(".git/config", "url = https://u:"+tok+"@github.com/x\n")
	write("src/clean.txt", "nothing to see\n")
	if err := os.Symlink(filepath.Join(dir, "src/app.env"), filepath.Join(dir, "link.env")); err != nil {
		t.Fatal(err)
	}
	s := newScanner(t, Options{MaxFileSize: 150})
	got, st, err := s.ScanTree(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path != "src/app.env" || got[0].RuleID != "github-pat" {
		t.Errorf("findings %+v", got)
	}
	if st.Files != 2 || st.SkippedBinary != 1 || st.SkippedLarge != 1 {
		t.Errorf("stats %+v", st)
	}
	assertMasked(t, got, []string{tok})
}

// TestLineLocal pins which built-in rules run only on keyword lines: all
// but those whose values may span lines.
func TestLineLocal(t *testing.T) {
	s := newScanner(t, Options{})
	var multi []string
	for _, r := range s.Rules() {
		if !r.lineLocal {
			multi = append(multi, r.ID)
		}
	}
	want := []string{"netrc-password", "private-key", "dockerconfig-secret"}
	if !slices.Equal(multi, want) {
		t.Errorf("rules matching across lines: %v, want %v", multi, want)
	}
	// A keyword on one line and the value on the next is not a match of a
	// line-local rule, as it would not be on the whole text either.
	if got := s.ScanBytes("a", []byte("token\n=ghp_"+strings.Repeat("Ab3", 12)+"\n")); len(got) != 1 || got[0].StartLine != 2 {
		t.Errorf("findings %+v", got)
	}
}
