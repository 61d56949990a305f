// Package sharedtest locates the team's shared, read-only test data
// (../shared/data next to the repository) for tests that compare tollgate
// with other tools' recorded behaviour. Nothing in it is ever copied into
// the repository.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides the location of the shared directory (the folder that
// holds data/ and docs/).
const EnvVar = "TOLLGATE_SHARED"

// Root returns the shared directory, or "" when it cannot be found.
// It honours $TOLLGATE_SHARED, else walks up from the working directory to
// the repository root (the folder holding .git) and takes ../shared.
func Root() string {
	if d := os.Getenv(EnvVar); d != "" {
		if isDir(d) {
			return d
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			d := filepath.Join(filepath.Dir(dir), "shared")
			if isDir(d) {
				return d
			}
			return ""
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// Data returns the path of the shared data directory joined with elem, or
// skips the test with a message saying what is missing.
func Data(tb testing.TB, elem ...string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skipf("shared data not found: set $%s or place the shared folder beside the repository (../shared)", EnvVar)
	}
	p := filepath.Join(append([]string{root, "data"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared data %s not available: %v", p, err)
	}
	return p
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
