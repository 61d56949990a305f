package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
