package dockerfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/internal/decodemsg"
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

// UnknownRules names the rule IDs the configuration ignores or overrides
// that no rule has (a typo hides nothing and should not pass unnoticed),
// one message each, in configuration order.
func (c *Config) UnknownRules() []string {
	known := map[string]bool{}
	for _, r := range allRules() {
		known[r.ID] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range []struct {
		what string
		ids  []string
	}{{"ignored", c.Ignored}, {"error", c.Override.Error}, {"warning", c.Override.Warning}, {"info", c.Override.Info}, {"style", c.Override.Style}} {
		for _, id := range l.ids {
			if known[id] || seen[l.what+id] {
				continue
			}
			seen[l.what+id] = true
			out = append(out, fmt.Sprintf("unknown rule %q (%s) has no effect; see 'tollgate dockerfile rules'", id, l.what))
		}
	}
	return out
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

// ConfigFile is what a config file holds: .hadolint.yaml has the lint
// settings; .tollgate.yaml has the same keys and "policy", the admission
// policy kube scan applies. LoadConfigFile is the one reader of both.
type ConfigFile struct {
	// Path is the file read.
	Path string
	// Settings are the lint settings.
	Settings Settings
	// Policy is the policy file named by "policy", relative paths taken
	// from the config file's directory ("default" and absolute paths as
	// written); "" when the key is absent.
	Policy string
	// Warnings name the keys the file has that mean nothing to tollgate
	// (a typo, or a newer hadolint key); they are ignored.
	Warnings []string
}

// configFileJSON is the shape of a config file.
type configFileJSON struct {
	Settings
	Policy string `json:"policy,omitempty"`
}

// LoadConfigFile reads a config file. A file that is not valid YAML or has
// a value of the wrong type is an error naming the file and the key; an
// unknown key is a warning.
func LoadConfigFile(path string) (ConfigFile, error) {
	cf := ConfigFile{Path: path}
	b, err := os.ReadFile(path)
	if err != nil {
		return cf, fmt.Errorf("reading config file: %w", err)
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return cf, fmt.Errorf("config file %s: %s", path, decodemsg.Text(err))
	}
	if t := strings.TrimSpace(string(js)); t == "null" {
		return cf, nil // empty, or comments only
	} else if !strings.HasPrefix(t, "{") {
		return cf, fmt.Errorf("config file %s: want a mapping of keys", path)
	}
	var f configFileJSON
	strict, err := kjson.UnmarshalStrict(js, &f, kjson.DisallowUnknownFields)
	if err != nil {
		return cf, fmt.Errorf("config file %s: %s", path, decodemsg.Text(err))
	}
	for _, e := range strict {
		if fe, ok := e.(kjson.FieldError); ok && strings.HasPrefix(e.Error(), "unknown field") {
			cf.Warnings = append(cf.Warnings, fmt.Sprintf("config file %s: unknown key %q ignored", path, fe.FieldPath()))
			continue
		}
		return cf, fmt.Errorf("config file %s: %s", path, decodemsg.Text(e))
	}
	var c Config
	if err := f.Settings.apply(&c); err != nil {
		return cf, fmt.Errorf("config file %s: %w", path, err)
	}
	cf.Settings = f.Settings
	cf.Policy = f.Policy
	if cf.Policy != "" && cf.Policy != "default" && !filepath.IsAbs(cf.Policy) {
		cf.Policy = filepath.Join(filepath.Dir(path), cf.Policy)
	}
	return cf, nil
}

// LoadSettings reads the lint settings of a config file (LoadConfigFile).
func LoadSettings(path string) (Settings, error) {
	cf, err := LoadConfigFile(path)
	return cf.Settings, err
}

// TollgateConfig returns dir/.tollgate.yaml (or .yml) when it exists, else "".
func TollgateConfig(dir string) string {
	for _, name := range []string{".tollgate.yaml", ".tollgate.yml"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
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
