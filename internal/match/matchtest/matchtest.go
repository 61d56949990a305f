// Package matchtest builds real advisory DBs for tests from OSV records
// on disk (the project's fixtures under examples/vulndb, or the shared
// fixture zips).
package matchtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/advisory"
)

// FixtureDir is the directory of the project's own OSV fixture records
// (examples/vulndb), found from this source file.
func FixtureDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples", "vulndb")
}

// Built is the build time of every DB made here.
var Built = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// Write builds a DB file in dir (as tollgate.db, where OpenForScan looks)
// from the paths (directories, zips, JSON files) and returns its path.
func Write(tb testing.TB, dir string, paths ...string) string {
	tb.Helper()
	b := advisory.NewBuilder()
	b.Now = func() time.Time { return Built }
	for _, p := range paths {
		if _, err := b.AddPath(p); err != nil {
			tb.Fatalf("reading advisories %s: %v", p, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, advisory.FileName)
	if _, err := b.Write(path); err != nil {
		tb.Fatalf("writing advisory DB: %v", err)
	}
	return path
}

// DB builds a DB from the paths (the fixtures when none are given) and
// opens it; it is closed when the test ends.
func DB(tb testing.TB, paths ...string) *advisory.DB {
	tb.Helper()
	if len(paths) == 0 {
		paths = []string{FixtureDir()}
	}
	db, err := advisory.Open(Write(tb, tb.TempDir(), paths...))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// RecordsDB builds a DB from OSV records given as JSON by ID (a test's
// own records) and opens it; it is closed when the test ends.
func RecordsDB(tb testing.TB, records map[string]string) *advisory.DB {
	tb.Helper()
	dir := tb.TempDir()
	for id, rec := range records {
		if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(rec), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return DB(tb, dir)
}
