package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// Exit codes the tests expect, as cli.Run maps Lint's outcome errors.
const (
	ExitOK         = 0
	ExitFailed     = 1
	ExitUnreadable = 2
)

// run lints and returns the exit code of Lint's outcome; err is any other
// error (a usage error).
func run(t *testing.T, o Options) (code int, stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	o.Stdout, o.Stderr = &out, &errb
	if o.Stdin == nil {
		o.Stdin = strings.NewReader("")
	}
	err = Lint(context.Background(), o)
	switch {
	case err == nil:
	case errors.Is(err, outcome.ErrFindings):
		code, err = ExitFailed, nil
	case err == outcome.ErrUnreadable:
		code, err = ExitUnreadable, nil
	}
	return code, out.String(), errb.String(), err
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestColour(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "Dockerfile", "FROM debian\n")
	yes := true
	tests := []struct {
		name     string
		terminal bool
		env      map[string]string
		flags    dockerfile.Settings
		want     bool
	}{
		{"terminal", true, nil, dockerfile.Settings{}, true},
		{"not a terminal", false, nil, dockerfile.Settings{}, false},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, dockerfile.Settings{}, false},
		{"--no-color", true, nil, dockerfile.Settings{NoColor: &yes}, false},
		{"json", true, nil, dockerfile.Settings{Format: "json"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _, err := run(t, Options{
				Files: []string{df}, Terminal: tt.terminal, Flags: tt.flags,
				Getenv: func(k string) string { return tt.env[k] },
			})
			if err != nil || code != ExitFailed {
				t.Fatalf("code %d, err %v", code, err)
			}
			if got := strings.Contains(out, "\x1b["); got != tt.want {
				t.Errorf("colour = %v, want %v; output %q", got, tt.want, out)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "bad", "FROM debian\n")
	clean := write(t, dir, "clean", "FROM gcr.io/distroless/static:nonroot\n")
	broken := write(t, dir, "broken", "FROM a:1\nNOPE\n")
	no := false
	yes := true
	tests := []struct {
		name  string
		files []string
		flags dockerfile.Settings
		want  int
	}{
		{"clean", []string{clean}, dockerfile.Settings{}, ExitOK},
		{"findings", []string{clean, bad}, dockerfile.Settings{}, ExitFailed},
		{"below threshold", []string{bad}, dockerfile.Settings{FailureThreshold: "error"}, ExitOK},
		{"no-fail", []string{bad}, dockerfile.Settings{NoFail: &yes}, ExitOK},
		{"no-fail off", []string{bad}, dockerfile.Settings{NoFail: &no}, ExitFailed},
		{"parse error", []string{broken, clean}, dockerfile.Settings{FailureThreshold: "error"}, ExitFailed},
		{"unreadable", []string{filepath.Join(dir, "missing"), clean}, dockerfile.Settings{NoFail: &yes}, ExitUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, _, err := run(t, Options{Files: tt.files, Flags: tt.flags})
			if err != nil || code != tt.want {
				t.Errorf("code %d, err %v; want %d", code, err, tt.want)
			}
		})
	}
	if _, _, _, err := run(t, Options{}); err == nil {
		t.Error("no files: no usage error")
	}
	if _, _, _, err := run(t, Options{Files: []string{clean}, Flags: dockerfile.Settings{Format: "xml"}}); err == nil {
		t.Error("unknown format: no usage error")
	}
}

func TestStdinAndLimits(t *testing.T) {
	code, out, errOut, err := run(t, Options{Files: []string{"-", "-"}, Stdin: strings.NewReader("FROM debian\n")})
	if err != nil || code != ExitUnreadable || !strings.Contains(out, "-:1 DL3006") || !strings.Contains(errOut, "standard input was already read") {
		t.Errorf("stdin twice: code %d err %v out %q stderr %q", code, err, out, errOut)
	}
	big := strings.NewReader(strings.Repeat("#", maxDockerfileSize+10))
	code, _, errOut, _ = run(t, Options{Files: []string{"-"}, Stdin: big})
	if code != ExitUnreadable || !strings.Contains(errOut, "larger than") {
		t.Errorf("oversized input: code %d stderr %q", code, errOut)
	}
}

func TestConfigLookup(t *testing.T) {
	dir := t.TempDir()
	df := write(t, dir, "Dockerfile", "FROM debian\n")
	write(t, dir, ".hadolint.yaml", "ignored: [DL3006, TG104, TG105]\n")
	code, out, errOut, err := run(t, Options{Files: []string{df}, Dir: dir, Flags: dockerfile.Settings{Verbose: new(true)}})
	if err != nil || code != ExitOK || out != "" || !strings.Contains(errOut, ".hadolint.yaml") {
		t.Errorf("code %d err %v out %q stderr %q", code, err, out, errOut)
	}
	write(t, dir, "broken.yaml", "ignored: [\n")
	if _, _, _, err := run(t, Options{Files: []string{df}, Dir: dir, ConfigFile: filepath.Join(dir, "broken.yaml")}); err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Errorf("broken config error = %v", err)
	}
	env := map[string]string{"HADOLINT_FAILURE_THRESHOLD": "nonsense"}
	if _, _, _, err := run(t, Options{Files: []string{df}, Getenv: func(k string) string { return env[k] }}); err == nil {
		t.Error("a bad HADOLINT_FAILURE_THRESHOLD was accepted")
	}
}
