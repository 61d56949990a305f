package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	p, err := Resolve(DefaultName)
	if err != nil || p.Name() != "default" {
		t.Fatalf("Resolve(default) = %v, %v", p, err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	os.WriteFile(file, []byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: mine}\n"), 0o644)
	if p, err := Resolve(file); err != nil || p.Name() != "mine" {
		t.Errorf("Resolve(%s) = %v, %v", file, p, err)
	}
	if _, err := Resolve(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve(missing) = %v, want a not-exist error", err)
	}
}

// TestLoadFilesBadPaths: what a policy or a key path can point at by
// mistake — nothing, a directory, something endless — is a clear error
// naming it, and the key files read are reported even then.
func TestLoadFilesBadPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "keys"), 0o755)
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, make([]byte, maxPolicyBytes+1), 0o644)
	withKey := func(key string) string {
		f := filepath.Join(dir, "p-"+filepath.Base(key)+".yaml")
		os.WriteFile(f, []byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  signatures:\n    rules:\n    - images: [\"r.io/**\"]\n      keys: [{publicKeyFile: "+key+"}]\n"), 0o644)
		return f
	}
	for _, c := range []struct {
		name, path, want, read string
	}{
		{"missing policy", filepath.Join(dir, "nope.yaml"), "reading policy " + filepath.Join(dir, "nope.yaml") + ": no such file or directory", ""},
		{"policy is a directory", dir, "reading policy " + dir + ": is a directory", ""},
		{"policy too large", big, "reading policy " + big + ": larger than 4096 KiB", ""},
		{"missing key", withKey("missing.pub"), filepath.Join(dir, "missing.pub") + " does not exist", filepath.Join(dir, "missing.pub")},
		{"key is a directory", withKey("keys"), "reading " + filepath.Join(dir, "keys") + ": is a directory", filepath.Join(dir, "keys")},
		{"endless key", withKey("/dev/zero"), "reading /dev/zero: larger than 64 KiB", "/dev/zero"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, read, err := LoadFiles(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadFiles = %v, %v; want an error containing %q", p, err, c.want)
			}
			if got := strings.Join(read, " "); got != c.read {
				t.Errorf("files read %q, want %q", got, c.read)
			}
		})
	}
}
