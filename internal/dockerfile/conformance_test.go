package dockerfile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// hadolintCase is one of hadolint's own rule tests, extracted as data.
type hadolintCase struct {
	Rule              string `json:"rule"`
	Dockerfile        string `json:"dockerfile"`
	DockerfileOnbuild string `json:"dockerfile_onbuild"`
	Onbuild           bool   `json:"onbuild"`
	Expect            string `json:"expect"`
	Count             string `json:"count"`
	Config            string `json:"config"`
	Note              string `json:"note"`
	Name              string `json:"name"`
	Source            string `json:"source"`
}

// minAgreement is the agreement with hadolint's rule tests below which the
// conformance test fails.
const minAgreement = 0.97

// TestHadolintConformance runs hadolint's rule tests (the shared
// dockerfile-cases.yaml) against tollgate's rules: every DL case without a
// note, with configuration cases translated to a tollgate config file.
// It prints the agreement per rule and overall and lists each disagreement.
func TestHadolintConformance(t *testing.T) {
	path := sharedtest.Data(t, "dockerfile-cases.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []hadolintCase `json:"cases"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}

	type tally struct{ agree, total int }
	perRule := map[string]*tally{}
	var disagreements []string
	total, agree := 0, 0
	for i, c := range doc.Cases {
		if !strings.HasPrefix(c.Rule, "DL") || c.Note != "" {
			continue
		}
		cfg := DefaultConfig()
		if c.Config != "" {
			cfg = configFromHaskell(t, c.Config)
		}
		src := c.Dockerfile
		if c.Onbuild {
			src = c.DockerfileOnbuild
		}
		src += "\n"
		got, parseErr := countFindings(cfg, c.Rule, src)
		ok := expectationMet(t, c, got)
		tl := perRule[c.Rule]
		if tl == nil {
			tl = &tally{}
			perRule[c.Rule] = tl
		}
		tl.total++
		total++
		if ok {
			tl.agree++
			agree++
			continue
		}
		detail := ""
		if parseErr != nil {
			detail = " (parse error: " + parseErr.Error() + ")"
		}
		disagreements = append(disagreements, fmt.Sprintf("case %d %s %q (%s): want %s %s, got %d%s\n%s",
			i, c.Rule, c.Name, c.Source, c.Expect, c.Count, got, detail, indent(src)))
	}

	rules := make([]string, 0, len(perRule))
	for r := range perRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	var b strings.Builder
	for _, r := range rules {
		tl := perRule[r]
		fmt.Fprintf(&b, "%s %d/%d\n", r, tl.agree, tl.total)
	}
	t.Logf("agreement per rule:\n%s", b.String())
	for _, d := range disagreements {
		t.Logf("disagreement: %s", d)
	}
	ratio := float64(agree) / float64(total)
	t.Logf("overall agreement: %d/%d = %.2f%% over %d rules", agree, total, 100*ratio, len(rules))
	if total != 553 {
		t.Errorf("denominator is %d DL cases without a note, want 553", total)
	}
	if ratio < minAgreement {
		t.Errorf("agreement %.2f%% is below %.0f%%", 100*ratio, 100*minAgreement)
	}
}

func indent(s string) string {
	return "\t| " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n\t| ")
}

// countFindings lints src and counts the findings of rule after pragmas but
// before severity overrides and ignores, as hadolint's rule tests do (they
// see rules whose default severity is "ignore" too).
func countFindings(cfg Config, rule, src string) (int, error) {
	l := NewLinter(cfg)
	f, err := l.parser.Parse("Dockerfile", []byte(src))
	if err != nil {
		return 0, err
	}
	prag := collectPragmas(f)
	n := 0
	for _, fd := range l.check(f, true) {
		if fd.Rule == rule && !prag.ignores(fd.Rule, fd.Line) {
			n++
		}
	}
	return n, nil
}

func expectationMet(t *testing.T, c hadolintCase, got int) bool {
	switch c.Count {
	case "at-least-1":
		return got >= 1
	case "exactly-0":
		return got == 0
	}
	if n, ok := strings.CutPrefix(c.Count, "exactly-"); ok {
		want, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("bad count %q", c.Count)
		}
		return got == want
	}
	t.Fatalf("unknown count %q in case %q", c.Count, c.Name)
	return false
}

var (
	hsRegistries = regexp.MustCompile(`allowedRegistries\s*=\s*\[([^\]]*)\]`)
	hsLabel      = regexp.MustCompile(`\("([^"]*)",\s*(?:Rule\.)?(\w+)\)`)
	hsString     = regexp.MustCompile(`"([^"]*)"`)
)

// configFromHaskell turns the Haskell configuration of a hadolint test
// (def { allowedRegistries = [...], labelSchema = Map.fromList [...],
// strictLabels = True }) into an equivalent .tollgate.yaml, and loads it the
// way the command does.
func configFromHaskell(t *testing.T, hs string) Config {
	t.Helper()
	var y strings.Builder
	if m := hsRegistries.FindStringSubmatch(hs); m != nil {
		y.WriteString("trustedRegistries:\n")
		for _, s := range hsString.FindAllStringSubmatch(m[1], -1) {
			fmt.Fprintf(&y, "  - %q\n", s[1])
		}
	}
	if strings.Contains(hs, "labelSchema") {
		y.WriteString("label-schema:\n")
		types := map[string]string{"RawText": "text", "Url": "url", "Rfc3339": "rfc3339", "Spdx": "spdx", "GitHash": "hash", "SemVer": "semver", "Email": "email"}
		for _, m := range hsLabel.FindAllStringSubmatch(hs, -1) {
			typ, ok := types[m[2]]
			if !ok {
				t.Fatalf("unknown label type %s in %s", m[2], hs)
			}
			fmt.Fprintf(&y, "  %q: %s\n", m[1], typ)
		}
	}
	if strings.Contains(hs, "strictLabels = True") {
		y.WriteString("strict-labels: true\n")
	}
	path := filepath.Join(t.TempDir(), ".tollgate.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(path)
	if err != nil {
		t.Fatalf("config for %s: %v", hs, err)
	}
	cfg, err := Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
