package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/report"
)

// DefaultIgnoreFiles are read from the working directory, all of them
// that exist, and their rules merged; --ignorefile replaces them.
var DefaultIgnoreFiles = []string{".trivyignore", ".trivyignore.yaml", ".tollgateignore"}

// IgnoreRule is one entry of an ignore file.
type IgnoreRule struct {
	ID string
	// Kind is the type of finding the rule is for (report.FindingSecret
	// …), from the section of a .trivyignore.yaml; "" (a plain
	// .trivyignore) means every type.
	Kind string
	// Paths and PURLs narrow the rule to findings at these paths (globs,
	// or a layer's digest or diff ID) or of packages with these package
	// URLs (the image's, for secrets and image checks); empty means
	// every one.
	Paths []string
	PURLs []string
	// Expires: the rule applies before this day only (zero: always).
	Expires   time.Time
	Statement string
	// Source is "FILE:LINE".
	Source string
}

func (r *IgnoreRule) expired(now time.Time) bool {
	return !r.Expires.IsZero() && !now.Before(r.Expires)
}

func (r *IgnoreRule) matches(s *subject, now time.Time) bool {
	if r.expired(now) || (r.Kind != "" && r.Kind != s.kind) || !slices.Contains(s.ids, r.ID) {
		return false
	}
	if len(r.Paths) > 0 && !anyPath(r.Paths, s.path) && !anyLayer(r.Paths, s.layer) {
		return false
	}
	if len(r.PURLs) > 0 && !anyPURL(r.PURLs, s.purl) {
		return false
	}
	return true
}

// anyLayer reports whether one of paths is the digest or diff ID of l.
func anyLayer(paths []string, l *report.Layer) bool {
	if l == nil {
		return false
	}
	return slices.ContainsFunc(paths, func(p string) bool {
		return strings.HasPrefix(p, "sha256:") && (p == l.Digest || p == l.DiffID)
	})
}

func anyPath(globs []string, p string) bool {
	if p == "" {
		return false
	}
	for _, g := range globs {
		g = strings.TrimPrefix(g, "/")
		if ok, _ := path.Match(g, p); ok || g == p || strings.HasPrefix(p, strings.TrimSuffix(g, "/")+"/") {
			return true
		}
	}
	return false
}

func anyPURL(rules []string, got string) bool {
	for _, r := range rules {
		if purlMatches(r, got) {
			return true
		}
	}
	return false
}

// purlMatches reports whether the package URL got is the one rule names:
// type, namespace and name equal; version and qualifiers only when the
// rule gives them.
func purlMatches(rule, got string) bool {
	ru, err := packageurl.FromString(rule)
	if err != nil {
		return false
	}
	gu, err := packageurl.FromString(got)
	if err != nil {
		return false
	}
	if ru.Type != gu.Type || !strings.EqualFold(ru.Namespace, gu.Namespace) || ru.Name != gu.Name {
		return false
	}
	if ru.Version != "" && ru.Version != gu.Version {
		return false
	}
	gq := gu.Qualifiers.Map()
	for k, v := range ru.Qualifiers.Map() {
		if gq[k] != v {
			return false
		}
	}
	return true
}

// LoadIgnoreFiles reads ignore files. With explicit false the paths are
// the defaults, and missing ones are skipped; an explicit file must exist.
func LoadIgnoreFiles(paths []string, explicit bool) ([]IgnoreRule, error) {
	var rules []IgnoreRule
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			if !explicit && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, outcome.Usagef("reading ignore file %s: %v", p, pathError(err))
		}
		var rs []IgnoreRule
		if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
			rs, err = parseIgnoreYAML(p, data)
		} else {
			rs, err = parseIgnoreLines(p, data)
		}
		if err != nil {
			return nil, outcome.Usagef("%v", err)
		}
		rules = append(rules, rs...)
	}
	return rules, nil
}

// parseIgnoreLines reads the .trivyignore format: one ID a line (a
// vulnerability, a secret rule or an image check: the rule is for every
// type), with an optional "exp:YYYY-MM-DD"; "#" starts a comment, which
// becomes the entry's statement when it follows an ID.
func parseIgnoreLines(file string, data []byte) ([]IgnoreRule, error) {
	var out []IgnoreRule
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line, comment, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		r := IgnoreRule{ID: fields[0], Statement: strings.TrimSpace(comment), Source: fmt.Sprintf("%s:%d", file, n)}
		for _, f := range fields[1:] {
			d, ok := strings.CutPrefix(f, "exp:")
			if !ok {
				return nil, fmt.Errorf("%s:%d: unexpected %q after the ID (only exp:YYYY-MM-DD may follow)", file, n, f)
			}
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: bad date %q: want exp:YYYY-MM-DD", file, n, d)
			}
			r.Expires = t
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return out, nil
}

// ignoreSections are the sections of a .trivyignore.yaml and the finding
// type each is for.
var ignoreSections = []struct{ key, kind string }{
	{"vulnerabilities", report.FindingVulnerability},
	{"secrets", report.FindingSecret},
	{"misconfigurations", report.FindingMisconfiguration},
}

// ignoreEntry is one entry of a .trivyignore.yaml section.
type ignoreEntry struct {
	ID        string   `yaml:"id"`
	Paths     []string `yaml:"paths"`
	PURLs     []string `yaml:"purls"`
	Statement string   `yaml:"statement"`
	ExpiredAt string   `yaml:"expired_at"`
}

// parseIgnoreYAML reads the .trivyignore.yaml format: vulnerabilities,
// secrets (by rule ID) and misconfigurations (by check ID) sections.
// Trivy's licenses section is accepted and has nothing to ignore.
func parseIgnoreYAML(file string, data []byte) ([]IgnoreRule, error) {
	var doc map[string][]ignoreEntry
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("%s: not YAML: %s", file, yamlProblem(err))
	}
	if node.Kind == 0 {
		return nil, nil // an empty file
	}
	if err := node.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s%s: want a mapping with vulnerabilities, secrets and misconfigurations lists of {id, paths, purls, statement, expired_at}", file, yamlLine(err))
	}
	for key := range doc {
		if key != "licenses" && !slices.ContainsFunc(ignoreSections, func(s struct{ key, kind string }) bool { return s.key == key }) {
			return nil, fmt.Errorf("%s: unknown section %q: use vulnerabilities, secrets, misconfigurations", file, key)
		}
	}
	var out []IgnoreRule
	for _, sec := range ignoreSections {
		for i, v := range doc[sec.key] {
			where := fmt.Sprintf("%s[%d]", sec.key, i)
			if v.ID == "" {
				return nil, fmt.Errorf("%s: %s has no id", file, where)
			}
			r := IgnoreRule{ID: v.ID, Kind: sec.kind, Paths: v.Paths, PURLs: v.PURLs, Statement: v.Statement, Source: file + ":" + where}
			if v.ExpiredAt != "" {
				t, err := time.Parse(time.DateOnly, v.ExpiredAt)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: bad expired_at %q: want YYYY-MM-DD", file, where, v.ExpiredAt)
				}
				r.Expires = t
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// yamlLine returns ":LINE" of the first line a YAML decoding error names
// (its message also names Go types, which users should not see).
func yamlLine(err error) string {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	return ":" + m[1]
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// yamlProblem words a YAML error without the library's prefix.
func yamlProblem(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
