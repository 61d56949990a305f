package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// TestSBOMRefusesBadImages: an SBOM is never made of an image read wrong —
// a layer cut at a tar block boundary (archive/tar reads it as a shorter,
// valid archive), or another platform than --platform asks for — and the
// earlier SBOM stays.
func TestSBOMRefusesBadImages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	whole := registrytest.Tar(t,
		registrytest.File("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
		registrytest.File("var/lib/dpkg/status", "Package: vim\nStatus: install ok installed\nVersion: 2:9.0\nArchitecture: amd64\n\n"),
	)
	// Cut before the second header: both the first file and the cut fall
	// on block boundaries, and the diffID is the cut layer's own.
	cut := whole[:512+512]
	truncated := filepath.Join(dir, "truncated.tar")
	registrytest.WriteDockerArchive(t, truncated, "app:1", registrytest.Image(t, registrytest.LayerFromTar(t, cut)))
	good := filepath.Join(dir, "good.tar")
	registrytest.WriteDockerArchive(t, good, "app:1", registrytest.Image(t, registrytest.LayerFromTar(t, whole)))

	out := filepath.Join(dir, "sbom.json")
	if _, stderr, code := runTollgate(t, "sbom", "--no-cache", "-o", out, "-i", good); code != 0 {
		t.Fatalf("good archive: exit %d: %s", code, stderr)
	}
	before, _ := os.ReadFile(out)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"truncated layer", []string{"-i", truncated}, "truncated"},
		{"other platform", []string{"--platform", "linux/arm64", "-i", good}, "the image is for platform linux/amd64, not linux/arm64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runTollgate(t, append([]string{"sbom", "--no-cache", "-o", out}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "archive/tar") {
				t.Errorf("stderr shows Go internals: %q", stderr)
			}
			if after, _ := os.ReadFile(out); string(after) != string(before) {
				t.Error("the earlier SBOM was replaced")
			}
		})
	}
	if _, stderr, code := runTollgate(t, "sbom", "--no-cache", "--platform", "linux/amd64", "-o", out, "-i", good); code != 0 {
		t.Errorf("matching --platform: exit %d: %s", code, stderr)
	}
}

// TestUntrustedTextEscaped: a Dockerfile or manifest carrying terminal
// control sequences cannot reach the terminal raw through any
// human-readable output or error message.
func TestUntrustedTextEscaped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const evil = "\x1b]0;pwned\x07\x1b[2J\u009b31m"
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	df := write("Dockerfile", "FROM debian:12\nFROB"+evil+"\n")
	pod := write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: \"web"+`\u001b[2J\u0007`+"\"}\nspec:\n  containers: [{name: web, image: \"nginx:latest"+`\u001b]0;x\u0007`+"\"}]\n")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"lint tty", []string{"dockerfile", "lint", df}},
		{"lint gnu", []string{"dockerfile", "lint", "-f", "gnu", df}},
		{"lint unreadable file name", []string{"dockerfile", "lint", filepath.Join(dir, "no"+evil)}},
		{"kube table", []string{"kube", "scan", "-f", "table", pod}},
		{"kube unreadable file name", []string{"kube", "scan", filepath.Join(dir, "no"+evil+".yaml")}},
		{"kube scan --policy", []string{"kube", "scan", "--policy", "default", "-f", "table", pod}},
		{"policy test text", []string{"policy", "test", "default", pod}},
		{"policy file name", []string{"policy", "test", filepath.Join(dir, "no"+evil), pod}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, _ := runTollgate(t, tc.args...)
			for stream, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
				if strings.ContainsAny(text, "\x1b\x07\u009b") {
					t.Errorf("%s carries raw control characters: %q", stream, text)
				}
			}
			if !strings.Contains(stdout+stderr, `\x1b`) {
				t.Errorf("the escaped sequence is not shown: stdout %q stderr %q", stdout, stderr)
			}
		})
	}
}

// TestFixNotesEscaped: dockerfile fix prints the fixed file as it is (the
// control characters are the file's), but its notes on stderr quote RUN
// lines and so are escaped like every other human-readable output.
func TestFixNotesEscaped(t *testing.T) {
	t.Parallel()
	df := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM alpine:3.20\nRUN echo \x1b]0;pwned\x07\nRUN apk add curl\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runTollgate(t, "dockerfile", "fix", df)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(stderr, "\x1b\x07") || !strings.Contains(stderr, `\x1b`) {
		t.Errorf("stderr not escaped: %q", stderr)
	}
	if !strings.Contains(stdout, "\x1b]0;pwned\x07") {
		t.Errorf("the fixed file lost its own bytes: %q", stdout)
	}
}
