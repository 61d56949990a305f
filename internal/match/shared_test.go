package match_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// TestSharedExpectedMatches runs the golden queries of the shared
// vulndata (computed with dpkg, apk, python-packaging and semver reference
// comparators) through Match, as an installed package of an image of that
// release would be: the records behind the findings are exactly the
// expected IDs. The DB holds the fixture set's selected records (every
// record of the queried packages), which keeps the test fast under -race.
func TestSharedExpectedMatches(t *testing.T) {
	root := sharedtest.Data(t, "vulndata")
	var paths []string
	for _, z := range []string{"osv/Go/selected", "osv/PyPI/selected", "osv/PyPI/ghsa", "osv/npm/all.zip", "derived/Debian/selected", "derived/Alpine/selected"} {
		paths = append(paths, filepath.Join(root, z))
	}
	db := matchtest.DB(t, paths...)
	raw, err := os.ReadFile(filepath.Join(root, "expected-matches.json"))
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
	for _, q := range queries {
		t.Run(q.Ecosystem+"/"+q.Package+"@"+q.Version, func(t *testing.T) {
			in := match.Input{}
			base, release, _ := strings.Cut(q.Ecosystem, ":")
			switch base {
			case "Debian":
				in.OS = &inventory.OS{Family: "debian", Name: release + ".0", VersionID: release}
				in.Packages = []inventory.Package{{Name: "bin-" + q.Package, Version: q.Version + "+b1", SrcName: q.Package, SrcVersion: q.Version, Ecosystem: base, Type: inventory.TypeDpkg}}
			case "Alpine":
				v := strings.TrimPrefix(release, "v")
				in.OS = &inventory.OS{Family: "alpine", Name: v + ".0", VersionID: v + ".0"}
				in.Packages = []inventory.Package{{Name: "lib" + q.Package, Version: q.Version, SrcName: q.Package, SrcVersion: q.Version, Ecosystem: base, Type: inventory.TypeApk}}
			default:
				typ := map[string]string{"Go": inventory.TypeGoBinary, "npm": inventory.TypeNodePkg, "PyPI": inventory.TypePythonPkg}[base]
				in.Packages = []inventory.Package{{Name: q.Package, Version: q.Version, Ecosystem: base, Type: typ}}
			}
			res, err := match.Match(db, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Skipped) > 0 {
				t.Fatalf("skipped: %+v", res.Skipped)
			}
			got := []string{}
			for _, f := range res.Findings {
				for _, r := range f.Explanation.Records {
					if !slices.Contains(got, r) {
						got = append(got, r)
					}
				}
			}
			want := append([]string{}, q.IDs...)
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("records behind the findings (-want +got):\n%s", diff)
			}
		})
	}
}
