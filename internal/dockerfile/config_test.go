package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSettings(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, ".hadolint.yaml"), `
failure-threshold: warning
format: json
ignored: [DL3008, DL3015]
override:
  error: [DL3006]
  info: [DL3059]
trustedRegistries: docker.io
label-schema:
  author: text
  url: url
  license: ""
strict-labels: true
no-fail: false
disable-ignore-pragma: true
`)
	s, err := LoadSettings(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Ignored:             []string{"DL3008", "DL3015"},
		Override:            Override{Error: []string{"DL3006"}, Info: []string{"DL3059"}},
		FailureThreshold:    SeverityWarning,
		TrustedRegistries:   []string{"docker.io"},
		LabelSchema:         map[string]LabelType{"author": LabelText, "url": LabelURL, "license": LabelText},
		StrictLabels:        true,
		DisableIgnorePragma: true,
		Format:              "json",
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, msg string }{
		{"not yaml", "ignored: [DL3008\n", "line"},
		{"bad threshold", "failure-threshold: loud\n", "failure-threshold"},
		{"bad label type", "label-schema:\n  a: colour\n", "label-schema a"},
		{"bad registries type", "trustedRegistries: {a: b}\n", "trustedRegistries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, tt.name+".yaml"), tt.content)
			_, err := LoadSettings(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("LoadSettings error = %v, want one naming %s and mentioning %q", err, path, tt.msg)
			}
		})
	}
	if _, err := LoadSettings(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestResolveOrder(t *testing.T) {
	yes, no := true, false
	env := Settings{FailureThreshold: "error", Ignored: []string{"DL1"}, NoFail: &yes, Format: "json"}
	file := Settings{FailureThreshold: "style", Ignored: []string{"DL2"}, NoFail: &no}
	flags := Settings{Ignored: []string{"DL3"}, Format: "sarif"}
	cfg, err := Resolve(env, file, flags)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FailureThreshold != SeverityStyle || cfg.NoFail || cfg.Format != "sarif" {
		t.Errorf("later sources must win for single values: %+v", cfg)
	}
	if !cmp.Equal(cfg.Ignored, []string{"DL1", "DL2", "DL3"}) {
		t.Errorf("lists must be concatenated: %v", cfg.Ignored)
	}
	if _, err := Resolve(Settings{FailureThreshold: "bad"}); err == nil {
		t.Error("bad threshold accepted")
	}
	if c, _ := Resolve(); c.FailureThreshold != SeverityInfo {
		t.Errorf("default threshold = %v, want info (as hadolint)", c.FailureThreshold)
	}
}

func TestEnvSettings(t *testing.T) {
	env := map[string]string{
		"HADOLINT_NOFAIL":             "true",
		"HADOLINT_FAILURE_THRESHOLD":  "warning",
		"HADOLINT_IGNORE":             "DL3008, DL3015",
		"HADOLINT_OVERRIDE_ERROR":     "DL3006",
		"HADOLINT_TRUSTED_REGISTRIES": "docker.io,ghcr.io",
		"HADOLINT_REQUIRE_LABELS":     "maintainer:email,team",
		"TOLLGATE_FORMAT":             "gnu",
		"HADOLINT_FORMAT":             "json",
	}
	s, err := EnvSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.NoFail || cfg.FailureThreshold != SeverityWarning || cfg.Format != "gnu" ||
		!cmp.Equal(cfg.Ignored, []string{"DL3008", "DL3015"}) || !cmp.Equal(cfg.Override.Error, []string{"DL3006"}) ||
		!cmp.Equal(cfg.TrustedRegistries, []string{"docker.io", "ghcr.io"}) ||
		!cmp.Equal(cfg.LabelSchema, map[string]LabelType{"maintainer": LabelEmail, "team": LabelText}) {
		t.Errorf("config from environment = %+v", cfg)
	}
	if _, err := EnvSettings(func(k string) string {
		if k == "HADOLINT_NOFAIL" {
			return "maybe"
		}
		return ""
	}); err == nil {
		t.Error("a non-boolean HADOLINT_NOFAIL was accepted")
	}
	if _, err := EnvSettings(func(k string) string {
		if k == "HADOLINT_REQUIRE_LABELS" {
			return "team:colour"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), "REQUIRE_LABELS") || !strings.Contains(err.Error(), "unknown label type") {
		t.Errorf("a bad HADOLINT_REQUIRE_LABELS type: error %v", err)
	}
}

func TestRequiredLabels(t *testing.T) {
	got, err := RequiredLabels([]string{"maintainer:email", "team", "url:URL"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"maintainer": "email", "team": "text", "url": "url"}; !cmp.Equal(got, want) {
		t.Errorf("RequiredLabels = %v, want %v", got, want)
	}
	if got, err := RequiredLabels(nil); got != nil || err != nil {
		t.Errorf("RequiredLabels(nil) = %v, %v; want nil, nil", got, err)
	}
	for _, bad := range []string{":text", "a:colour"} {
		if _, err := RequiredLabels([]string{"ok:text", bad}); err == nil {
			t.Errorf("RequiredLabels accepted %q", bad)
		}
	}
}

func TestFindConfig(t *testing.T) {
	home := t.TempDir()
	cwd := t.TempDir()
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	if got := FindConfig(cwd, getenv); got != "" {
		t.Errorf("found %s in empty directories", got)
	}
	inHome := writeFile(t, filepath.Join(home, ".hadolint.yaml"), "ignored: [DL3006]\n")
	if got := FindConfig(cwd, getenv); got != inHome {
		t.Errorf("FindConfig = %q, want %q", got, inHome)
	}
	xdg := writeFile(t, filepath.Join(home, ".config", "hadolint.yml"), "")
	if got := FindConfig(cwd, getenv); got != xdg {
		t.Errorf("FindConfig = %q, want the XDG file %q before the home file", got, xdg)
	}
	local := writeFile(t, filepath.Join(cwd, ".hadolint.yaml"), "")
	if got := FindConfig(cwd, getenv); got != local {
		t.Errorf("FindConfig = %q, want the working directory's %q", got, local)
	}
	mine := writeFile(t, filepath.Join(cwd, ".tollgate.yaml"), "")
	if got := FindConfig(cwd, getenv); got != mine {
		t.Errorf("FindConfig = %q, want .tollgate.yaml first: %q", got, mine)
	}
}

func TestLabelValues(t *testing.T) {
	tests := []struct {
		t    LabelType
		v    string
		want bool
	}{
		{LabelURL, "https://example.com/x", true},
		{LabelURL, "mailto:a@b.c", true},
		{LabelURL, "example.com", false},
		{LabelRFC3339, "2021-03-10T10:26:33.564595127+01:00", true},
		{LabelRFC3339, "2021-03-10", false},
		{LabelSPDX, "MIT", true},
		{LabelSPDX, "(MIT OR Apache-2.0) AND BSD-3-Clause", true},
		{LabelSPDX, "GPL-2.0-or-later WITH Classpath-exception-2.0", true},
		{LabelSPDX, "LicenseRef-mine", true},
		{LabelSPDX, "MIT OR", false},
		{LabelSPDX, "not-spdx", false},
		{LabelHash, "2dbfae9", true},
		{LabelHash, "43c572f1272b6b3171dd1db9e41b7027128ce080", true},
		{LabelHash, "2dbfae", false},
		{LabelSemver, "1.0.0-alpha.1+build.5", true},
		{LabelSemver, "v1.0.0", false},
		{LabelEmail, "a.b@example.com", true},
		{LabelEmail, "A <a@example.com>", false},
		{LabelText, "", true},
	}
	for _, tt := range tests {
		if got := validLabelValue(tt.t, tt.v); got != tt.want {
			t.Errorf("validLabelValue(%s, %q) = %v, want %v", tt.t, tt.v, got, tt.want)
		}
	}
}

// TestLoadConfigFile: the one loader of .hadolint.yaml and .tollgate.yaml
// reads the lint settings and the policy key (relative to the file), and
// warns of keys it does not know.
func TestLoadConfigFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, body string
		policy           string // relative to the file's directory unless default or absolute
		warnings         []string
		ignored          []string
	}{
		{name: "policy relative to the file", file: ".tollgate.yaml", body: "policy: pol/p.yaml\nignored: [DL3008]\n", policy: "pol/p.yaml", ignored: []string{"DL3008"}},
		{name: "yml", file: ".tollgate.yml", body: "policy: p.yaml\n", policy: "p.yaml"},
		{name: "default", file: ".tollgate.yaml", body: "policy: default\n", policy: "default"},
		{name: "absolute", file: ".tollgate.yaml", body: "policy: /etc/p.yaml\n", policy: "/etc/p.yaml"},
		{name: "no policy", file: ".hadolint.yaml", body: "ignored: [DL3006]\n", ignored: []string{"DL3006"}},
		{name: "empty", file: ".hadolint.yaml", body: "# nothing\n"},
		{name: "unknown keys", file: ".hadolint.yaml", body: "ignord: [DL3006]\nfailure-threshold: error\nstrictlabels: true\n",
			warnings: []string{`unknown key "ignord" ignored`, `unknown key "strictlabels" ignored`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := writeFile(t, filepath.Join(dir, tc.file), tc.body)
			if strings.HasPrefix(tc.file, ".tollgate") && TollgateConfig(dir) != path {
				t.Errorf("TollgateConfig(%s) = %q, want %q", dir, TollgateConfig(dir), path)
			}
			cf, err := LoadConfigFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.policy
			if want != "" && want != "default" && !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if cf.Policy != want {
				t.Errorf("Policy = %q, want %q", cf.Policy, want)
			}
			if diff := cmp.Diff(tc.ignored, []string(cf.Settings.Ignored)); diff != "" {
				t.Errorf("ignored (-want +got):\n%s", diff)
			}
			var got []string
			for _, w := range cf.Warnings {
				if !strings.Contains(w, path) {
					t.Errorf("warning %q does not name the file", w)
				}
				got = append(got, strings.TrimPrefix(w, "config file "+path+": "))
			}
			if diff := cmp.Diff(tc.warnings, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
	if TollgateConfig(t.TempDir()) != "" {
		t.Error("TollgateConfig of an empty directory is not empty")
	}
}

// TestConfigErrorsInOurWords: a config value of the wrong type names the
// key and the YAML types, never a Go type.
func TestConfigErrorsInOurWords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{"ignored: DL3008\n", "ignored: a string is not allowed here, want a list"},
		{"no-fail: [1]\n", "no-fail: a list is not allowed here, want a boolean"},
		{"override: {error: DL3006}\n", "override.error: a string is not allowed here, want a list"},
		{"label-schema: [a]\n", "label-schema: a list is not allowed here, want a mapping"},
		{"- a\n", "want a mapping of keys"},
		{"ignored: [a\n", "did not find expected"},
	} {
		path := writeFile(t, filepath.Join(dir, "c.yaml"), tc.body)
		_, err := LoadConfigFile(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.body, err, tc.want)
			continue
		}
		for _, internal := range []string{"Go ", "Settings", "json:", "YAML to JSON", "[]string"} {
			if strings.Contains(err.Error(), internal) {
				t.Errorf("%q: error %q shows %q", tc.body, err, internal)
			}
		}
	}
}

func TestUnknownRules(t *testing.T) {
	t.Parallel()
	cfg, err := Resolve(Settings{Ignored: []string{"DL3008", "DL9999", "DL9999"}, Override: Override{Warning: []string{"TG999", "DL3006"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`unknown rule "DL9999" (ignored) has no effect; see 'tollgate dockerfile rules'`,
		`unknown rule "TG999" (warning) has no effect; see 'tollgate dockerfile rules'`,
	}
	if diff := cmp.Diff(want, cfg.UnknownRules()); diff != "" {
		t.Errorf("UnknownRules (-want +got):\n%s", diff)
	}
}
