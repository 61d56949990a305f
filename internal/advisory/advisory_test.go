package advisory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var fixedNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// buildFixtures imports testdata/records into a DB in dir and opens it.
func buildFixtures(t *testing.T, dir string) (*DB, Source, []Problem) {
	t.Helper()
	b := NewBuilder()
	b.Now = func() time.Time { return fixedNow }
	var problems []Problem
	b.Report = func(p Problem) { problems = append(problems, p) }
	src, err := b.AddPath(filepath.Join("testdata", "records"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	if _, err := b.Write(path); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, src, problems
}

func ids(advs []Advisory) []string {
	out := []string{}
	for _, a := range advs {
		out = append(out, a.ID)
	}
	return out
}

func TestImportCountsAndSkips(t *testing.T) {
	db, src, _ := buildFixtures(t, t.TempDir())
	if src.Records != 11 || src.Skipped != 3 {
		t.Errorf("records %d skipped %d, want 11 and 3 (notes.txt, not-osv.json, broken.json)", src.Records, src.Skipped)
	}
	m := db.Metadata()
	if m.Records != 11 || m.Withdrawn != 1 || m.Schema != SchemaVersion || m.BuildID == "" || !m.Built.Equal(fixedNow) {
		t.Errorf("metadata %+v", m)
	}
	want := map[string]int{"npm": 3, "Debian": 2, "Go": 2, "PyPI": 2, "Ubuntu": 1} // the withdrawn Go record counts nowhere
	if diff := cmp.Diff(want, m.Ecosystems); diff != "" {
		t.Errorf("ecosystems (-want +got):\n%s", diff)
	}
}

func TestBadEventsDroppedValidRangesKept(t *testing.T) {
	db, _, problems := buildFixtures(t, t.TempDir())
	var msgs []string
	for _, p := range problems {
		if p.ID == "PYSEC-2021-371" {
			msgs = append(msgs, p.Msg)
		}
	}
	for _, want := range []string{
		`ranges[0] events[1]: fixed "195caac172690456dcdc8cc7a6ca50e05abf8182.patch" is not a commit hash`,
		`ranges[2] events[1]: fixed "not a version": not a pep440 version`,
		`ranges[3]: no valid introduced event left`,
		`versions: an element is not a string`,
	} {
		if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("no problem reported containing %q; got:\n%s", want, strings.Join(msgs, "\n"))
		}
	}
	advs, err := db.Lookup("PyPI", "binderhub")
	if err != nil || len(advs) != 1 {
		t.Fatalf("Lookup binderhub = %v, %v", ids(advs), err)
	}
	af := advs[0].Affected[0]
	wantRanges := []Range{
		{Type: RangeEcosystem, Events: []Event{{Introduced, "0"}, {Fixed, "8.3.0"}}},
		{Type: RangeEcosystem, Events: []Event{{Introduced, "9.0"}, {Fixed, "9.1"}}},
	}
	if diff := cmp.Diff(wantRanges, af.Ranges); diff != "" {
		t.Errorf("ranges kept (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"8.2.0"}, af.Versions); diff != "" {
		t.Errorf("versions kept (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		v    string
		want bool
	}{{"8.2.0", true}, {"8.2.9", true}, {"8.3.0", false}, {"9.0.1", true}, {"9.1", false}} {
		v, err := af.Check(tc.v)
		if err != nil || v.Affected != tc.want {
			t.Errorf("Check(%s) = %+v, %v; want affected=%v", tc.v, v, err, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	db, _, _ := buildFixtures(t, t.TempDir())
	tests := []struct {
		eco, name string
		want      []string
	}{
		{"npm", "lodash", []string{"GHSA-jf85-cpcp-j695", "GHSA-x5rq-j2xg-h7qm"}},
		{"npm", "lodash-es", []string{"GHSA-jf85-cpcp-j695"}},
		{"npm", "Lodash", []string{}}, // npm names are case-sensitive
		{"PyPI", "requests-toolbelt-demo", []string{"PYSEC-2023-74"}},
		{"PyPI", "REQUESTS.toolbelt__demo", []string{"PYSEC-2023-74"}},
		{"Debian:11", "openssl", []string{"DEBIAN-CVE-2023-0286", "DSA-5343-1"}},
		{"Debian:12", "openssl", []string{}},
		{"Go", "stdlib", []string{"GO-2022-0969"}},
		{"Go", "github.com/example/withdrawn", []string{}}, // withdrawn: never returned
		{"Ubuntu:22.04:LTS", "openssl", []string{"CVE-2024-0727"}},
	}
	for _, tt := range tests {
		t.Run(tt.eco+"/"+tt.name, func(t *testing.T) {
			advs, err := db.Lookup(tt.eco, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(advs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, a := range advs {
				for _, af := range a.Affected {
					if NormalizeName(af.Ecosystem, af.Name) != NormalizeName(tt.eco, tt.name) || af.Ecosystem != tt.eco {
						t.Errorf("%s: Lookup returned the entry of %s %s", a.ID, af.Ecosystem, af.Name)
					}
				}
			}
		})
	}
	// Get returns the whole record, withdrawn included.
	a, ok, err := db.Get("GHSA-jf85-cpcp-j695")
	if err != nil || !ok || len(a.Affected) != 2 {
		t.Errorf("Get = %v %v, %d affected", ok, err, len(a.Affected))
	}
	w, ok, err := db.Get("GO-2021-0001")
	if err != nil || !ok || !w.IsWithdrawn() {
		t.Errorf("Get withdrawn = %v %v %v", ok, err, w.Withdrawn)
	}
	if _, ok, err := db.Get("NOPE-1"); ok || err != nil {
		t.Errorf("Get unknown = %v %v", ok, err)
	}
}

// TestSamePackageTwice: a record naming one package in two affected
// entries (one range each) is one advisory whose both entries count.
func TestSamePackageTwice(t *testing.T) {
	db, _, _ := buildFixtures(t, t.TempDir())
	advs, err := db.Lookup("npm", "express")
	if err != nil || len(advs) != 1 || len(advs[0].Affected) != 2 {
		t.Fatalf("Lookup express = %v, %v", advs, err)
	}
	check := func(v string) bool {
		for i := range advs[0].Affected {
			verdict, err := advs[0].Affected[i].Check(v)
			if err != nil {
				t.Fatal(err)
			}
			if verdict.Affected {
				return true
			}
		}
		return false
	}
	for v, want := range map[string]bool{"4.19.2": true, "4.20.0": false, "5.0.0-beta.1": true, "5.0.0": false} {
		if got := check(v); got != want {
			t.Errorf("express %s affected = %v, want %v", v, got, want)
		}
	}
}

func TestSeverities(t *testing.T) {
	db, _, _ := buildFixtures(t, t.TempDir())
	get := func(id string) Advisory {
		a, ok, err := db.Get(id)
		if err != nil || !ok {
			t.Fatalf("Get(%s) = %v, %v", id, ok, err)
		}
		return a
	}
	// Empty severity list and a lower-case database level.
	old := get("GHSA-x5rq-j2xg-h7qm")
	if diff := cmp.Diff([]Severity{{Type: DatabaseLevel, Value: "moderate", Level: LevelMedium, Source: "ghsa"}}, old.Severity); diff != "" {
		t.Errorf("GHSA-x5rq (-want +got):\n%s", diff)
	}
	// CVSS v3 and v4 on one record, both scored.
	both := get("GHSA-qw6h-vgh9-j6wx")
	want := []Severity{
		{Type: CVSSv3, Value: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:L", Score: 5, Level: LevelMedium, Source: "ghsa"},
		{Type: CVSSv4, Value: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", Score: 8.7, Level: LevelHigh, Source: "ghsa"},
		{Type: DatabaseLevel, Value: "LOW", Level: LevelLow, Source: "ghsa"},
	}
	if diff := cmp.Diff(want, both.Severity); diff != "" {
		t.Errorf("GHSA-qw6h (-want +got):\n%s", diff)
	}
	if p, ok := Preferred(both.Severity); !ok || p.Type != DatabaseLevel {
		t.Errorf("Preferred = %+v, want the vendor's LOW", p)
	}
	if p, ok := Preferred(both.Severity[:2]); !ok || p.Type != CVSSv4 {
		t.Errorf("Preferred of the vectors = %+v, want the v4 (8.7)", p)
	}
	// Ubuntu priority, top-level and per package.
	ub := get("CVE-2024-0727")
	if ub.Severity[0].Type != UbuntuPriority || ub.Severity[0].Level != LevelLow || ub.Affected[0].Severity[0].Type != UbuntuPriority {
		t.Errorf("CVE-2024-0727 severities %+v / %+v", ub.Severity, ub.Affected[0].Severity)
	}
	// Debian urgency per release; end-of-life is a status and rates nothing.
	deb := get("DEBIAN-CVE-2023-0286")
	if s := deb.Affected[0].Severity; len(s) != 1 || s[0].Type != DebianUrgency || s[0].Level != LevelHigh || s[0].Source != "debian" {
		t.Errorf("Debian:11 urgency %+v", s)
	}
	if af := deb.Affected[1]; af.Status != StatusEndOfLife || af.Severity[0].Level != LevelUnknown {
		t.Errorf("Debian:10 status %q severity %+v", af.Status, af.Severity)
	}
	if s := deb.Severity[0]; s.Source != "nvd" || s.Score != 7.4 || s.Level != LevelHigh {
		t.Errorf("DEBIAN-CVE CVSS %+v", s)
	}
}

func TestResolveSeverityThroughLinks(t *testing.T) {
	db, _, _ := buildFixtures(t, t.TempDir())
	tests := []struct {
		id, eco, name string
		want          Severity
	}{
		// DSA (no rating) → DEBIAN-CVE's urgency for the same package and release.
		{"DSA-5343-1", "Debian:11", "openssl", Severity{Type: DebianUrgency, Value: "high", Level: LevelHigh, Source: "debian", Record: "DEBIAN-CVE-2023-0286"}},
		// GO (no rating) → the GHSA named in its aliases.
		{"GO-2022-0969", "Go", "stdlib", Severity{Type: DatabaseLevel, Value: "HIGH", Level: LevelHigh, Source: "ghsa", Record: "GHSA-69cg-p879-7622"}},
		// Own rating wins: nothing is looked up.
		{"GHSA-jf85-cpcp-j695", "npm", "lodash", Severity{Type: DatabaseLevel, Value: "CRITICAL", Level: LevelCritical, Source: "ghsa", Record: "GHSA-jf85-cpcp-j695"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			a, _, _ := db.Get(tt.id)
			sevs, err := db.ResolveSeverity(a, tt.eco, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := Preferred(sevs)
			if !ok {
				t.Fatalf("no rating resolved from %+v", sevs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// A record with nothing linked resolves to nothing: UNKNOWN for the caller.
	a, _, _ := db.Get("PYSEC-2021-371")
	if sevs, err := db.ResolveSeverity(a, "PyPI", "binderhub"); err != nil || len(sevs) != 0 {
		t.Errorf("PYSEC-2021-371 resolved %+v, %v", sevs, err)
	}
}

func TestCheckRanges(t *testing.T) {
	db, _, _ := buildFixtures(t, t.TempDir())
	advs, _ := db.Lookup("Go", "stdlib")
	af := advs[0].Affected[0]
	tests := []struct {
		v           string
		affected    bool
		fixed, intr string
	}{
		{"1.18.5", true, "1.18.6", "0"},
		{"1.18.6", false, "1.18.6", ""},
		{"1.19.0-rc.1", true, "1.19.1", "1.19.0-0"},
		{"go1.19rc1", true, "1.19.1", "1.19.0-0"},
		{"1.19.0", true, "1.19.1", "1.19.0-0"},
		{"1.19.1", false, "1.19.1", ""},
		{"v1.20.0", false, "1.19.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			v, err := af.Check(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if v.Affected != tt.affected || v.Fixed != tt.fixed || v.Introduced != tt.intr {
				t.Errorf("Check(%s) = %+v", tt.v, v)
			}
		})
	}
	if _, err := af.Check("not-a-version"); err == nil {
		t.Error("an unparsable installed version must be an error, not 'not affected'")
	}
	// last_affected is inclusive.
	py, _ := db.Lookup("PyPI", "requests-toolbelt-demo")
	for v, want := range map[string]bool{"2.2": false, "2.3.0": true, "2.30.0": true, "2.30.1": false} {
		got, err := py[0].Affected[0].Check(v)
		if err != nil || got.Affected != want {
			t.Errorf("last_affected: Check(%s) = %+v, %v; want %v", v, got, err, want)
		}
	}
	// Explicit versions list (Ubuntu) counts beside the range.
	ub, _ := db.Lookup("Ubuntu:22.04:LTS", "openssl")
	if v, _ := ub[0].Affected[0].Check("3.0.2-0ubuntu1.12"); !v.Affected || !v.InVersions {
		t.Errorf("versions list: %+v", v)
	}
}

func TestLimitEvents(t *testing.T) {
	af := Affected{Ecosystem: "PyPI", Name: "x", Ranges: []Range{{Type: RangeEcosystem, Events: []Event{{Introduced, "0"}, {Limit, "2.0"}}}}}
	for v, want := range map[string]bool{"1.0": true, "1.9.9": true, "2.0": false, "3.0": false} {
		got, err := af.Check(v)
		if err != nil || got.Affected != want {
			t.Errorf("limit: Check(%s) = %+v, %v; want %v", v, got, err, want)
		}
	}
}

func TestOpenRefusesOtherSchemaAndJunk(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.db")); !errors.Is(err, ErrNoDB) {
		t.Errorf("missing: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("this is not a bbolt file"), 0o644)
	if _, err := Open(junk); !errors.Is(err, ErrCorrupt) {
		t.Errorf("junk: %v", err)
	}
	// a newer tollgate's DB, and one of the layout before (schema 1 stored
	// package values without their list totals)
	for _, n := range []int{SchemaVersion + 1, SchemaVersion - 1} {
		other := filepath.Join(dir, fmt.Sprintf("schema%d.db", n))
		writeSchema(t, other, n)
		_, err := Open(other)
		if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "schema") {
			t.Errorf("schema %d: %v", n, err)
		}
	}
}

func TestListedVersionsCompareByOrdering(t *testing.T) {
	af := Affected{Ecosystem: "PyPI", Name: "x", Versions: []string{"2.0", "1.0rc1"}}
	for v, want := range map[string]bool{"2.0": true, "2.0.0": true, "1.0RC1": true, "1.0": false} {
		got, err := af.Check(v)
		if err != nil || got.Affected != want {
			t.Errorf("Check(%s) = %+v, %v; want %v", v, got, err, want)
		}
	}
	// A version that does not parse and no ranges: the list alone decides,
	// spelled the same.
	if got, _ := af.Check("not a version"); got.Affected {
		t.Errorf("unparsable version matched the list")
	}
}

// TestContentID: two builds of the same records share a content ID (so
// replicas that each built the DB share scan results) and differ in build
// ID; one changed record changes it.
func TestContentID(t *testing.T) {
	a, _, _ := buildFixtures(t, t.TempDir())
	b, _, _ := buildFixtures(t, t.TempDir())
	ma, mb := a.Metadata(), b.Metadata()
	if ma.ContentID == "" || ma.ContentID != mb.ContentID || ma.BuildID == mb.BuildID {
		t.Fatalf("content %q / %q, builds %q / %q: want equal contents, different builds", ma.ContentID, mb.ContentID, ma.BuildID, mb.BuildID)
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.json")
	write := func(summary string) string {
		t.Helper()
		doc := `{"id":"TG-1","modified":"2026-01-01T00:00:00Z","summary":"` + summary + `","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}`
		if err := os.WriteFile(rec, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		bl := NewBuilder()
		if _, err := bl.AddPath(rec); err != nil {
			t.Fatal(err)
		}
		m, err := bl.Write(filepath.Join(t.TempDir(), FileName))
		if err != nil {
			t.Fatal(err)
		}
		return m.ContentID
	}
	if write("one") == write("two") {
		t.Error("a changed record kept the content ID")
	}
}
