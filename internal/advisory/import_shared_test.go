package advisory

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// sharedZips are the five all.zip files of the shared vulndata.
var sharedZips = []string{"osv/Go/all.zip", "osv/PyPI/all.zip", "osv/npm/all.zip", "derived/Debian/all.zip", "derived/Alpine/all.zip"}

// buildShared imports the shared vulndata zips (plus extra paths) into a
// DB in a temp dir and opens it.
func buildShared(tb testing.TB, extra ...string) (*DB, *Builder, []Problem) {
	tb.Helper()
	root := sharedtest.Data(tb, "vulndata")
	b := NewBuilder()
	var problems []Problem
	b.Report = func(p Problem) { problems = append(problems, p) }
	for _, z := range sharedZips {
		if _, err := b.AddPath(filepath.Join(root, z)); err != nil {
			tb.Fatal(err)
		}
	}
	for _, p := range extra {
		if _, err := b.AddPath(filepath.Join(root, p)); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "tollgate.db")
	if _, err := b.Write(path); err != nil {
		tb.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, b, problems
}

// matchIDs returns the IDs of the advisories that affect (eco, name, v).
func matchIDs(t *testing.T, db *DB, eco, name, v string) []string {
	t.Helper()
	advs, err := db.Lookup(eco, name)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, a := range advs {
		for i := range a.Affected {
			verdict, err := a.Affected[i].Check(v)
			if err != nil {
				t.Fatalf("%s: %v", a.ID, err)
			}
			if verdict.Affected {
				ids = append(ids, a.ID)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// TestSharedExpectedMatches: acceptance 1 — the five real zips import,
// and every golden query of expected-matches.json returns exactly its IDs.
func TestSharedExpectedMatches(t *testing.T) {
	db, _, problems := buildShared(t, "osv/Go/selected", "osv/PyPI/selected", "osv/PyPI/ghsa", "derived/Debian/selected", "derived/Alpine/selected", "osv/npm")
	raw, err := os.ReadFile(filepath.Join(sharedtest.Data(t, "vulndata"), "expected-matches.json"))
	if err != nil {
		t.Fatal(err)
	}
	var queries []struct {
		Ecosystem, Package, Version string
		IDs                         []string `json:"ids"`
	}
	if err := json.Unmarshal(raw, &queries); err != nil {
		t.Fatal(err)
	}
	if len(queries) < 20 {
		t.Fatalf("expected-matches.json has %d queries, want at least 20", len(queries))
	}
	for _, q := range queries {
		t.Run(q.Ecosystem+"/"+q.Package+"@"+q.Version, func(t *testing.T) {
			want := append([]string{}, q.IDs...)
			slices.Sort(want)
			if diff := cmp.Diff(want, matchIDs(t, db, q.Ecosystem, q.Package, q.Version)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	m := db.Metadata()
	t.Logf("records %d, withdrawn %d, packages %d, problems %d, ecosystems %v", m.Records, m.Withdrawn, m.Packages, len(problems), m.Ecosystems)
	for _, p := range problems {
		if !strings.HasPrefix(p.ID, "PYSEC-2021-371") {
			t.Logf("problem: %s", p)
		}
	}
}
