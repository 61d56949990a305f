package secret

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParseConfig(t *testing.T) {
	const cfg = `
rules:
  - id: tollgate-internal-token
    category: Internal
    title: Internal API token
    severity: high
    keywords: [tgi_]
    regex: (?P<secret>tgi_[a-z0-9]{16})
    allow-rules:
      - id: fixtures
        path: \.golden$
disable-rules: [jwt-token]
disable-allow-rules: [tests]
allow-rules:
  - id: known-demo-token
    regex: ^ghp_Demo
exclude-block:
  description: generated docs
  regexes: ['(?s)BEGIN-EXAMPLE.*?END-EXAMPLE']
`
	c, err := ParseConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	s := newScanner(t, Options{Config: c})
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0b2xsZ2F0ZSJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2ln"
	demo := "ghp_Demo" + strings.Repeat("x", 32)
	real := "ghp_" + strings.Repeat("Rq7", 12)
	for _, tc := range []struct {
		name, path, body string
		want             []string
	}{
		{"custom rule", "app/a.txt", "t=tgi_0123456789abcdef\n", []string{"tollgate-internal-token"}},
		{"custom rule's allow path", "app/a.golden", "t=tgi_0123456789abcdef\n", nil},
		{"disabled rule", "app/a.txt", "t=" + jwt + "\n", nil},
		{"allow rule by value", "app/a.txt", "t=" + demo + "\n", nil},
		{"builtin allow rule disabled", "x/testdata/a.txt", "t=" + real + "\n", []string{"github-pat"}},
		{"exclude block", "app/a.md", "BEGIN-EXAMPLE\nt=" + real + "\nEND-EXAMPLE\nu=" + real + "\n", []string{"github-pat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(s.ScanBytes(tc.path, []byte(tc.body)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
		})
	}
	if got := s.ScanBytes("app/a.md", []byte("BEGIN-EXAMPLE\nt="+real+"\nEND-EXAMPLE\nu="+real+"\n")); len(got) != 1 || got[0].StartLine != 4 {
		t.Errorf("exclude block: %+v", got)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ cfg, want string }{
		{"rules:\n  - id: x\n    regex: '('\n", "rule x: regex: missing closing )"},
		{"rules:\n  - regex: a\n", "rules[0]: id is missing"},
		{"rules:\n  - id: x\n", "rule x: regex is missing"},
		{"rules:\n  - id: x\n    regex: a\n    severity: urgent\n", `rule x: severity "URGENT" is not one of`},
		{"rules:\n  - id: x\n    regex: a\n    secret-group-name: s\n", `rule x: the regex has no group named "s"`},
		{"disable-rule: [a]\n", `line 1: unknown key "disable-rule"`},
		{"disable-rules: jwt-token\n", "line 1: a string is not allowed here (want a list)"},
		{"allow-rules:\n  - id: a\n", `allow-rules "a": give regex, path or both`},
		{"rules: [\n", "line 1"},
	} {
		_, err := ParseConfig([]byte(tc.cfg))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.cfg, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secret.") || strings.Contains(err.Error(), "[]string") {
			t.Errorf("%q: error shows Go types: %v", tc.cfg, err)
		}
	}
	c, err := ParseConfig([]byte("enable-builtin-rules: [no-such-rule]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Config: c}); err == nil || !strings.Contains(err.Error(), `"no-such-rule" is not a built-in rule`) {
		t.Errorf("unknown builtin: %v", err)
	}
	c, _ = ParseConfig([]byte("rules:\n  - id: github-pat\n    regex: a\n"))
	if _, err := New(Options{Config: c}); err == nil || !strings.Contains(err.Error(), "a built-in rule has this id") {
		t.Errorf("duplicate id: %v", err)
	}
	if c, err := ParseConfig(nil); err != nil || c == nil {
		t.Errorf("empty config: %v", err)
	}
}

func TestEnableBuiltinRules(t *testing.T) {
	c, err := ParseConfig([]byte("enable-builtin-rules: [github-pat]\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := newScanner(t, Options{Config: c})
	if n := len(s.Rules()); n != 1 {
		t.Errorf("%d rules, want 1", n)
	}
}

func TestFindConfig(t *testing.T) {
	dir := t.TempDir()
	if got := FindConfig(dir); got != "" {
		t.Errorf("empty dir: %q", got)
	}
	trivy := filepath.Join(dir, "trivy-secret.yaml")
	os.WriteFile(trivy, []byte("disable-rules: [jwt-token]\n"), 0o644)
	if got := FindConfig(dir); got != trivy {
		t.Errorf("got %q, want %q", got, trivy)
	}
	ours := filepath.Join(dir, "tollgate-secret.yaml")
	os.WriteFile(ours, []byte(""), 0o644)
	if got := FindConfig(dir); got != ours {
		t.Errorf("got %q, want %q (tollgate's name first)", got, ours)
	}
	if _, err := LoadConfig(trivy); err != nil {
		t.Error(err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "reading secret config") {
		t.Errorf("missing file: %v", err)
	}
}

func TestScanConfig(t *testing.T) {
	s := newScanner(t, Options{})
	tok := "ghp_" + strings.Repeat("Kd4", 12)
	cfg := &v1.ConfigFile{
		Config: v1.Config{
			Env:    []string{"PATH=/usr/bin", "DB_PASSWORD=Sup3r-Secret-Value", "GPG_KEY=ABCDEF0123456789"},
			Labels: map[string]string{"b": "x", "a.token": tok},
			Cmd:    []string{"app", "--url=https://ci:" + "hunter22hunter@db.internal"},
		},
		History: []v1.History{
			{CreatedBy: "/bin/sh -c #(nop)  ENV DB_PASSWORD=Sup3r-Secret-Value"},
			{CreatedBy: "RUN /bin/sh -c echo hello # buildkit"},
		},
	}
	got := s.ScanConfig(cfg)
	type key struct {
		path, rule string
		line       int
	}
	var keys []key
	for _, f := range got {
		keys = append(keys, key{f.Path, f.RuleID, f.StartLine})
	}
	want := []key{
		{ConfigEnv, "env-credential", 2},
		{ConfigLabels, "github-pat", 1},
		{ConfigCmd, "basic-auth-url", 1},
		{HistoryTarget(0), "env-credential", 1},
	}
	if !slices.Equal(keys, want) {
		t.Errorf("got %v\nwant %v", keys, want)
	}
	assertMasked(t, got, []string{tok, "Sup3r-Secret-Value", "hunter22hunter"})
}
