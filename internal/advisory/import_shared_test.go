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

// TestShared imports the shared real data once (the five zips, the
// selected/ folders and the loose npm records: nothing new, deduplicated
// by ID) and checks acceptance 1 on it.
func TestShared(t *testing.T) {
	db, b, problems := buildShared(t, "osv/Go/selected", "osv/PyPI/selected", "osv/PyPI/ghsa", "derived/Debian/selected", "derived/Alpine/selected", "osv/npm")
	if b.Records() != 17603 {
		t.Errorf("%d records, want the 17603 distinct IDs of the five zips", b.Records())
	}
	t.Run("expected matches", func(t *testing.T) { testExpectedMatches(t, db, problems) })
	t.Run("PYSEC-2021-371", func(t *testing.T) { testPYSEC2021371(t, db, problems) })
	t.Run("quirks", func(t *testing.T) { testSharedQuirks(t, db) })
}

// testExpectedMatches: every golden query of expected-matches.json
// returns exactly its IDs.
func testExpectedMatches(t *testing.T, db *DB, problems []Problem) {
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

// testPYSEC2021371: the real record's GIT event (a fix ending in
// ".patch") is reported, and its ECOSYSTEM range is kept.
func testPYSEC2021371(t *testing.T, db *DB, problems []Problem) {
	if !slices.ContainsFunc(problems, func(p Problem) bool {
		return p.ID == "PYSEC-2021-371" && strings.Contains(p.Msg, `ranges[0] events[1]: fixed "195caac172690456dcdc8cc7a6ca50e05abf8182.patch" is not a commit hash`)
	}) {
		t.Errorf("the GIT event of PYSEC-2021-371 was not reported: %v", problems)
	}
	advs, err := db.Lookup("PyPI", "binderhub")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(advs, func(a Advisory) bool { return a.ID == "PYSEC-2021-371" })
	if i < 0 {
		t.Fatalf("PYSEC-2021-371 not found for binderhub: %v", ids(advs))
	}
	rs := advs[i].Affected[0].Ranges
	if len(rs) != 1 || rs[0].Type != RangeEcosystem {
		t.Errorf("ranges kept: %+v, want the ECOSYSTEM range alone", rs)
	}
}

// testSharedQuirks: the real quirks listed in the vulndata README.
func testSharedQuirks(t *testing.T, db *DB) {
	get := func(id string) Advisory {
		a, ok, err := db.Get(id)
		if err != nil || !ok {
			t.Fatalf("Get(%s) = %v, %v", id, ok, err)
		}
		return a
	}
	// Empty severity list, lower-case "moderate".
	if a := get("GHSA-x5rq-j2xg-h7qm"); len(a.Severity) != 1 || a.Severity[0].Level != LevelMedium || a.Severity[0].Value != "moderate" {
		t.Errorf("GHSA-x5rq-j2xg-h7qm severities %+v", a.Severity)
	}
	// CVSS v3 and v4 on one record: both scored, plus the GHSA level.
	a := get("GHSA-qw6h-vgh9-j6wx")
	var types []SeverityType
	for _, s := range a.Severity {
		if s.Score == 0 && s.Type != DatabaseLevel {
			t.Errorf("unscored %+v", s)
		}
		types = append(types, s.Type)
	}
	if !slices.Contains(types, CVSSv3) || !slices.Contains(types, CVSSv4) || !slices.Contains(types, DatabaseLevel) {
		t.Errorf("GHSA-qw6h-vgh9-j6wx severity types %v", types)
	}
	// The same package twice in affected[]: Lookup returns both entries.
	for _, tc := range []struct{ id, pkg string }{{"GHSA-vh95-rmgr-6w4m", "minimist"}, {"GHSA-xvch-5gv4-984h", "minimist"}, {"GHSA-rv95-896h-c2vc", "express"}} {
		advs, _ := db.Lookup("npm", tc.pkg)
		i := slices.IndexFunc(advs, func(a Advisory) bool { return a.ID == tc.id })
		if i < 0 || len(advs[i].Affected) < 2 {
			t.Errorf("%s for %s: want two affected entries, got %v", tc.id, tc.pkg, advs)
		}
	}
	// Withdrawn Go records: kept for Get, never returned by Lookup.
	m := db.Metadata()
	if m.Withdrawn < 17 {
		t.Errorf("%d withdrawn records, the Go data alone has 17", m.Withdrawn)
	}
	withdrawn := get("GO-2024-2442")
	if !withdrawn.IsWithdrawn() {
		t.Fatalf("GO-2024-2442 is withdrawn in the Go data; read as %v", withdrawn.Withdrawn)
	}
	for _, af := range withdrawn.Affected {
		advs, _ := db.Lookup(af.Ecosystem, af.Name)
		if slices.ContainsFunc(advs, func(a Advisory) bool { return a.ID == withdrawn.ID }) {
			t.Errorf("Lookup(%s, %s) returned withdrawn %s", af.Ecosystem, af.Name, withdrawn.ID)
		}
	}
}
