package secret

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is a secret configuration file in the shape of Trivy's
// trivy-secret.yaml: rules to add, built-in rules to keep or drop, allow
// rules to add or drop, and blocks of text never to report from.
type Config struct {
	// Rules are added after the built-in rules.
	Rules []*Rule
	// EnableBuiltinRules, when not empty, keeps only these built-in rules.
	EnableBuiltinRules []string
	// DisableRules drops rules (built-in or added) by ID.
	DisableRules []string
	// AllowRules are added to the built-in allow rules.
	AllowRules []AllowRule
	// DisableAllowRules drops built-in allow rules by ID.
	DisableAllowRules []string
	// ExcludeBlocks are regular expressions; a value inside a match of
	// one is not reported.
	ExcludeBlocks []*regexp.Regexp
}

// DefaultConfigNames are the files looked for in the working directory
// when no --secret-config is given, in order.
var defaultConfigNames = []string{"tollgate-secret.yaml", "trivy-secret.yaml"}

// FindConfig returns the first of tollgate-secret.yaml and
// trivy-secret.yaml that exists in dir, or "".
func FindConfig(dir string) string {
	for _, n := range defaultConfigNames {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// The file's YAML shape (Trivy's key names).
type fileConfig struct {
	Rules              []fileRule      `yaml:"rules"`
	EnableBuiltinRules []string        `yaml:"enable-builtin-rules"`
	DisableRules       []string        `yaml:"disable-rules"`
	AllowRules         []fileAllowRule `yaml:"allow-rules"`
	DisableAllowRules  []string        `yaml:"disable-allow-rules"`
	ExcludeBlock       fileBlock       `yaml:"exclude-block"`
}

type fileRule struct {
	ID              string          `yaml:"id"`
	Category        string          `yaml:"category"`
	Title           string          `yaml:"title"`
	Severity        string          `yaml:"severity"`
	Path            string          `yaml:"path"`
	Keywords        []string        `yaml:"keywords"`
	Regex           string          `yaml:"regex"`
	SecretGroupName string          `yaml:"secret-group-name"`
	AllowRules      []fileAllowRule `yaml:"allow-rules"`
	ExcludeBlock    fileBlock       `yaml:"exclude-block"`
}

type fileAllowRule struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	Regex       string `yaml:"regex"`
	Path        string `yaml:"path"`
}

type fileBlock struct {
	Description string   `yaml:"description"`
	Regexes     []string `yaml:"regexes"`
}

// LoadConfig reads a secret config file. Errors name the file and, where
// the YAML is at fault, the line.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("secret config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses the YAML of a secret config file.
func ParseConfig(b []byte) (*Config, error) {
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty config
		return nil, errors.New(yamlErrorText(err))
	}
	c := &Config{
		EnableBuiltinRules: fc.EnableBuiltinRules,
		DisableRules:       fc.DisableRules,
		DisableAllowRules:  fc.DisableAllowRules,
	}
	var err error
	if c.ExcludeBlocks, err = compileAll("exclude-block", fc.ExcludeBlock.Regexes); err != nil {
		return nil, err
	}
	for _, a := range fc.AllowRules {
		ar, err := a.compile("allow-rules")
		if err != nil {
			return nil, err
		}
		c.AllowRules = append(c.AllowRules, ar)
	}
	for i, fr := range fc.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if fr.ID == "" {
			return nil, fmt.Errorf("%s: id is missing", where)
		}
		where = fmt.Sprintf("rule %s", fr.ID)
		if fr.Regex == "" {
			return nil, fmt.Errorf("%s: regex is missing", where)
		}
		r := &Rule{ID: fr.ID, Category: fr.Category, Title: fr.Title, Severity: strings.ToUpper(fr.Severity),
			Keywords: fr.Keywords, SecretGroup: fr.SecretGroupName}
		if r.Regex, err = compile(where+": regex", fr.Regex); err != nil {
			return nil, err
		}
		if fr.Path != "" {
			if r.Path, err = compile(where+": path", fr.Path); err != nil {
				return nil, err
			}
		}
		for _, a := range fr.AllowRules {
			ar, err := a.compile(where + ": allow-rules")
			if err != nil {
				return nil, err
			}
			r.AllowRules = append(r.AllowRules, ar)
		}
		blocks, err := compileAll(where+": exclude-block", fr.ExcludeBlock.Regexes)
		if err != nil {
			return nil, err
		}
		// A rule's own exclude blocks are applied with the global ones,
		// to every rule (Trivy applies them to the rule alone).
		c.ExcludeBlocks = append(c.ExcludeBlocks, blocks...)
		if err := r.compile(); err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, r)
	}
	return c, nil
}

func (a fileAllowRule) compile(where string) (AllowRule, error) {
	ar := AllowRule{ID: a.ID, Description: a.Description}
	if a.Regex == "" && a.Path == "" {
		return ar, fmt.Errorf("%s %q: give regex, path or both", where, a.ID)
	}
	var err error
	if a.Regex != "" {
		if ar.Regex, err = compile(fmt.Sprintf("%s %q: regex", where, a.ID), a.Regex); err != nil {
			return ar, err
		}
	}
	if a.Path != "" {
		if ar.Path, err = compile(fmt.Sprintf("%s %q: path", where, a.ID), a.Path); err != nil {
			return ar, err
		}
	}
	return ar, nil
}

func compile(where, expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", where, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, nil
}

func compileAll(where string, exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, e := range exprs {
		re, err := compile(where, e)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

// apply changes the built-in rules and allow rules as the config says.
func (c *Config) apply(rules []*Rule, allow []AllowRule) ([]*Rule, []AllowRule, error) {
	known := map[string]bool{}
	for _, r := range rules {
		known[r.ID] = true
	}
	for _, id := range c.EnableBuiltinRules {
		if !known[id] {
			return nil, nil, fmt.Errorf("enable-builtin-rules: %q is not a built-in rule", id)
		}
	}
	if len(c.EnableBuiltinRules) > 0 {
		rules = slices.DeleteFunc(rules, func(r *Rule) bool { return !slices.Contains(c.EnableBuiltinRules, r.ID) })
	}
	for _, r := range c.Rules {
		if known[r.ID] {
			return nil, nil, fmt.Errorf("rule %s: a built-in rule has this id; choose another or disable the built-in one", r.ID)
		}
		known[r.ID] = true
	}
	// Added rules go before env-credential and basic-auth-url, the generic
	// rules, so that a specific custom rule reports its own values.
	rules = append(rules, c.Rules...)
	rules = slices.DeleteFunc(rules, func(r *Rule) bool { return slices.Contains(c.DisableRules, r.ID) })
	allow = slices.DeleteFunc(allow, func(a AllowRule) bool { return slices.Contains(c.DisableAllowRules, a.ID) })
	allow = append(allow, c.AllowRules...)
	return rules, allow, nil
}

// yamlErrorText words a YAML decoding error without Go type names.
func yamlErrorText(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	var msgs []string
	for _, e := range te.Errors {
		if m := unknownFieldRE.FindStringSubmatch(e); m != nil {
			msgs = append(msgs, fmt.Sprintf("%s: unknown key %q", m[1], m[2]))
			continue
		}
		if m := wrongTypeRE.FindStringSubmatch(e); m != nil {
			msgs = append(msgs, fmt.Sprintf("%s: a %s is not allowed here (want %s)", m[1], yamlKind(m[2]), goKind(m[3])))
			continue
		}
		msgs = append(msgs, e)
	}
	return strings.Join(msgs, "; ")
}

var (
	unknownFieldRE = regexp.MustCompile(`^(line \d+): field (\S+) not found in type`)
	wrongTypeRE    = regexp.MustCompile(`^(line \d+): cannot unmarshal !!(\w+)(?: .*)? into (\S+)$`)
)

func yamlKind(tag string) string {
	switch tag {
	case "str":
		return "string"
	case "seq":
		return "list"
	case "map":
		return "mapping"
	case "int", "float":
		return "number"
	case "bool":
		return "boolean"
	}
	return tag
}

func goKind(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "string":
		return "a string"
	}
	return "a mapping"
}
