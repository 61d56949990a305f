package dockerfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// LabelType is the type a label-schema entry requires of a label's value.
type LabelType string

// The label types of a label schema (hadolint's names).
const (
	LabelText    LabelType = "text"
	LabelURL     LabelType = "url"
	LabelSemver  LabelType = "semver"
	LabelHash    LabelType = "hash"
	LabelRFC3339 LabelType = "rfc3339"
	LabelSPDX    LabelType = "spdx"
	LabelEmail   LabelType = "email"
)

func parseLabelType(s string) (LabelType, error) {
	switch t := LabelType(strings.ToLower(strings.TrimSpace(s))); t {
	case "":
		return LabelText, nil
	case LabelText, LabelURL, LabelSemver, LabelHash, LabelRFC3339, LabelSPDX, LabelEmail:
		return t, nil
	}
	return "", fmt.Errorf("unknown label type %q (want text, url, semver, hash, rfc3339, spdx or email)", s)
}

// Config is the resolved lint configuration.
type Config struct {
	// Ignored rules are never reported.
	Ignored []string
	// Override changes the severity of rules.
	Override Override
	// FailureThreshold is the lowest severity that makes the lint fail.
	FailureThreshold Severity
	// TrustedRegistries, when not empty, enables DL3026: images must come
	// from one of these registries ("*", "*.example.com" and "prefix*"
	// patterns are allowed).
	TrustedRegistries []string
	// LabelSchema, when not empty, enables the label rules DL3049-DL3058.
	LabelSchema map[string]LabelType
	// StrictLabels makes labels outside LabelSchema a finding (DL3050).
	StrictLabels bool
	// DisableIgnorePragma makes ignore pragmas in Dockerfiles ineffective.
	DisableIgnorePragma bool
	// NoFail makes the command exit 0 whatever it finds.
	NoFail bool
	// NoColor turns colour off in the tty format.
	NoColor bool
	// Format is the output format name ("" = tty).
	Format  string
	Verbose bool
}

// Override lists rules whose severity is changed. A rule in several lists
// gets the most severe.
type Override struct {
	Error   []string `json:"error,omitempty"`
	Warning []string `json:"warning,omitempty"`
	Info    []string `json:"info,omitempty"`
	Style   []string `json:"style,omitempty"`
}

// DefaultConfig is the configuration without any file, flag or variable.
func DefaultConfig() Config {
	return Config{FailureThreshold: SeverityInfo}
}

// override returns the overridden severity of a rule.
func (c *Config) override(id string) (Severity, bool) {
	switch {
	case slices.Contains(c.Override.Error, id):
		return SeverityError, true
	case slices.Contains(c.Override.Warning, id):
		return SeverityWarning, true
	case slices.Contains(c.Override.Info, id):
		return SeverityInfo, true
	case slices.Contains(c.Override.Style, id):
		return SeverityStyle, true
	}
	return 0, false
}

// severity returns the severity a rule's findings get.
func (c *Config) severity(r *Rule) Severity {
	if s, ok := c.override(r.ID); ok {
		return s
	}
	return r.Severity
}

func (c *Config) satisfies(n ruleNeed) bool {
	switch n {
	case needTrustedRegistries:
		return len(c.TrustedRegistries) > 0
	case needLabelSchema:
		return len(c.LabelSchema) > 0
	case needStrictLabels:
		return c.StrictLabels && len(c.LabelSchema) > 0
	}
	return true
}

// Settings is one source of configuration: the environment, a config file
// (.hadolint.yaml or .tollgate.yaml, same keys) or the command line. Unset
// fields keep what earlier sources set; lists add to them.
type Settings struct {
	FailureThreshold    string            `json:"failure-threshold,omitempty"`
	Format              string            `json:"format,omitempty"`
	Ignored             []string          `json:"ignored,omitempty"`
	LabelSchema         map[string]string `json:"label-schema,omitempty"`
	NoColor             *bool             `json:"no-color,omitempty"`
	NoFail              *bool             `json:"no-fail,omitempty"`
	Verbose             *bool             `json:"verbose,omitempty"`
	Override            Override          `json:"override,omitempty"`
	StrictLabels        *bool             `json:"strict-labels,omitempty"`
	DisableIgnorePragma *bool             `json:"disable-ignore-pragma,omitempty"`
	TrustedRegistries   StringList        `json:"trustedRegistries,omitempty"`
}

// StringList is a list that a config file may also give as one string.
type StringList []string

// UnmarshalJSON accepts a string or a list of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("trustedRegistries: want a string or a list of strings")
	}
	*l = many
	return nil
}

// Resolve merges sources in order (later ones win for single values, lists
// are concatenated) over the defaults and checks the values.
func Resolve(sources ...Settings) (Config, error) {
	c := DefaultConfig()
	for _, s := range sources {
		if err := s.apply(&c); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

func (s *Settings) apply(c *Config) error {
	if s.FailureThreshold != "" {
		t, err := ParseSeverity(s.FailureThreshold)
		if err != nil {
			return fmt.Errorf("failure-threshold: %w", err)
		}
		c.FailureThreshold = t
	}
	if s.Format != "" {
		c.Format = s.Format
	}
	c.Ignored = append(c.Ignored, s.Ignored...)
	for name, typ := range s.LabelSchema {
		t, err := parseLabelType(typ)
		if err != nil {
			return fmt.Errorf("label-schema %s: %w", name, err)
		}
		if c.LabelSchema == nil {
			c.LabelSchema = map[string]LabelType{}
		}
		c.LabelSchema[name] = t
	}
	setBool(&c.NoColor, s.NoColor)
	setBool(&c.NoFail, s.NoFail)
	setBool(&c.Verbose, s.Verbose)
	setBool(&c.StrictLabels, s.StrictLabels)
	setBool(&c.DisableIgnorePragma, s.DisableIgnorePragma)
	c.Override.Error = append(c.Override.Error, s.Override.Error...)
	c.Override.Warning = append(c.Override.Warning, s.Override.Warning...)
	c.Override.Info = append(c.Override.Info, s.Override.Info...)
	c.Override.Style = append(c.Override.Style, s.Override.Style...)
	c.TrustedRegistries = append(c.TrustedRegistries, s.TrustedRegistries...)
	return nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// LoadSettings reads a config file. A file that is not valid YAML or has a
// value of the wrong type is an error naming the file.
func LoadSettings(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("reading config file: %w", err)
	}
	if err := yaml.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("config file %s: %w", path, err)
	}
	var c Config
	if err := s.apply(&c); err != nil {
		return s, fmt.Errorf("config file %s: %w", path, err)
	}
	return s, nil
}

// ConfigCandidates lists, in order, the files looked for when no --config
// is given: tollgate's names, then hadolint's places (the working directory,
// $XDG_CONFIG_HOME, ~/.hadolint/, the home directory).
func ConfigCandidates(cwd string, getenv func(string) string) []string {
	var out []string
	add := func(dir string, names ...string) {
		if dir == "" {
			return
		}
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
	}
	add(cwd, ".tollgate.yaml", ".tollgate.yml", ".hadolint.yaml", ".hadolint.yml")
	home := getenv("HOME")
	xdg := getenv("XDG_CONFIG_HOME")
	if xdg == "" && home != "" {
		xdg = filepath.Join(home, ".config")
	}
	add(xdg, "tollgate.yaml", "tollgate.yml", "hadolint.yaml", "hadolint.yml")
	if home != "" {
		add(filepath.Join(home, ".hadolint"), "hadolint.yaml", "hadolint.yml", "config.yaml", "config.yml")
		add(home, ".tollgate.yaml", ".tollgate.yml", ".hadolint.yaml", ".hadolint.yml")
	}
	return out
}

// FindConfig returns the first existing file of ConfigCandidates, or "".
func FindConfig(cwd string, getenv func(string) string) string {
	for _, p := range ConfigCandidates(cwd, getenv) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// EnvSettings reads hadolint's environment variables (HADOLINT_*), and the
// same names with the prefix TOLLGATE_: NOFAIL, VERBOSE, FORMAT,
// FAILURE_THRESHOLD, OVERRIDE_ERROR, OVERRIDE_WARNING, OVERRIDE_INFO,
// OVERRIDE_STYLE, IGNORE, STRICT_LABELS, DISABLE_IGNORE_PRAGMA,
// TRUSTED_REGISTRIES and REQUIRE_LABELS (lists are comma-separated;
// REQUIRE_LABELS as name:type).
func EnvSettings(getenv func(string) string) (Settings, error) {
	var s Settings
	get := func(key string) string {
		if v := getenv("TOLLGATE_" + key); v != "" {
			return v
		}
		return getenv("HADOLINT_" + key)
	}
	list := func(key string) []string {
		var out []string
		for _, p := range strings.Split(get(key), ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	for key, dst := range map[string]**bool{
		"NOFAIL": &s.NoFail, "VERBOSE": &s.Verbose, "STRICT_LABELS": &s.StrictLabels,
		"DISABLE_IGNORE_PRAGMA": &s.DisableIgnorePragma,
	} {
		v := get(key)
		if v == "" {
			continue
		}
		b, err := parseBool(v)
		if err != nil {
			return s, fmt.Errorf("environment %s: %w", key, err)
		}
		*dst = &b
	}
	s.Format = get("FORMAT")
	s.FailureThreshold = get("FAILURE_THRESHOLD")
	s.Override = Override{Error: list("OVERRIDE_ERROR"), Warning: list("OVERRIDE_WARNING"), Info: list("OVERRIDE_INFO"), Style: list("OVERRIDE_STYLE")}
	s.Ignored = list("IGNORE")
	s.TrustedRegistries = list("TRUSTED_REGISTRIES")
	labels, err := RequiredLabels(list("REQUIRE_LABELS"))
	if err != nil {
		return s, fmt.Errorf("environment REQUIRE_LABELS: %w", err)
	}
	s.LabelSchema = labels
	return s, nil
}

// RequiredLabels turns "name:type" specifications (type defaults to text),
// as --require-label and REQUIRE_LABELS give them, into the label schema
// of a Settings; nil when there are none.
func RequiredLabels(specs []string) (map[string]string, error) {
	var schema map[string]string
	for _, spec := range specs {
		name, typ, err := parseRequiredLabel(spec)
		if err != nil {
			return nil, err
		}
		if schema == nil {
			schema = map[string]string{}
		}
		schema[name] = string(typ)
	}
	return schema, nil
}

// parseRequiredLabel parses "name:type" (type defaults to text).
func parseRequiredLabel(s string) (string, LabelType, error) {
	name, typ, _ := strings.Cut(s, ":")
	if name == "" {
		return "", "", fmt.Errorf("label %q: want name:type", s)
	}
	t, err := parseLabelType(typ)
	if err != nil {
		return "", "", fmt.Errorf("label %s: %w", name, err)
	}
	return name, t, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y":
		return true, nil
	case "0", "false", "no", "off", "n":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}
