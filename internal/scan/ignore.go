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
	// Paths and PURLs narrow the rule to packages at these paths (globs)
	// or with these package URLs; empty means every package.
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

func (r *IgnoreRule) matches(v *report.Vulnerability, now time.Time) bool {
	if r.expired(now) || !idOf(v, r.ID) {
		return false
	}
	if len(r.Paths) > 0 && !anyPath(r.Paths, v.PkgPath) {
		return false
	}
	if len(r.PURLs) > 0 && !anyPURL(r.PURLs, v.PkgIdentifier.PURL) {
		return false
	}
	return true
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

// parseIgnoreLines reads the .trivyignore format: one ID a line, with an
// optional "exp:YYYY-MM-DD"; "#" starts a comment, which becomes the
// entry's statement when it follows an ID.
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

// parseIgnoreYAML reads the .trivyignore.yaml format.
func parseIgnoreYAML(file string, data []byte) ([]IgnoreRule, error) {
	var doc struct {
		Vulnerabilities []struct {
			ID        string   `yaml:"id"`
			Paths     []string `yaml:"paths"`
			PURLs     []string `yaml:"purls"`
			Statement string   `yaml:"statement"`
			ExpiredAt string   `yaml:"expired_at"`
		} `yaml:"vulnerabilities"`
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("%s: not YAML: %s", file, yamlProblem(err))
	}
	if err := node.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s%s: want a mapping with a vulnerabilities list of {id, paths, purls, statement, expired_at}", file, yamlLine(err))
	}
	var out []IgnoreRule
	for i, v := range doc.Vulnerabilities {
		if v.ID == "" {
			return nil, fmt.Errorf("%s: vulnerabilities[%d] has no id", file, i)
		}
		r := IgnoreRule{ID: v.ID, Paths: v.Paths, PURLs: v.PURLs, Statement: v.Statement, Source: fmt.Sprintf("%s:vulnerabilities[%d]", file, i)}
		if v.ExpiredAt != "" {
			t, err := time.Parse(time.DateOnly, v.ExpiredAt)
			if err != nil {
				return nil, fmt.Errorf("%s: vulnerabilities[%d]: bad expired_at %q: want YYYY-MM-DD", file, i, v.ExpiredAt)
			}
			r.Expires = t
		}
		out = append(out, r)
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
