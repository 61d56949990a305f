package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/cli"
)

// TestOwnDockerfile holds tollgate's own Dockerfile to its own rules: the
// linter reports nothing, and the numeric USER has its /etc/passwd and
// /etc/group entries in the image context (build/image).
func TestOwnDockerfile(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), []string{"dockerfile", "lint", "Dockerfile"}, nil, &out, &errOut); code != 0 || out.Len() > 0 || errOut.Len() > 0 {
		t.Errorf("tollgate dockerfile lint Dockerfile: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER (\d+):(\d+)$`).FindStringSubmatch(string(b))
	if m == nil || m[1] == "0" {
		t.Fatalf("the Dockerfile has no numeric non-root USER uid:gid")
	}
	for file, want := range map[string]string{
		"build/image/passwd": ":x:" + m[1] + ":" + m[2] + ":",
		"build/image/group":  ":x:" + m[2] + ":",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s has no entry with %q:\n%s", file, want, b)
		}
	}
}
