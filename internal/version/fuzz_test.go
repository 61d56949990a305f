package version

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var allOrderings = []Ordering{Dpkg, Apk, RPM, SemVer, GoModule, NodeSemver, PEP440, MavenOrder, Gem, NuGetOrder, Composer}

// FuzzParse feeds two strings to every ordering: parsing never panics, a
// parsed version equals itself, and comparison is antisymmetric.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*-versions.txt"))
	for _, file := range files {
		for _, l := range readLinesF(f, file) {
			if fs := strings.Fields(l); len(fs) == 3 {
				f.Add(fs[0], fs[2])
			}
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, ord := range allOrderings {
			va, erra := ParseOrdering(ord, a)
			vb, errb := ParseOrdering(ord, b)
			if erra == nil && va.Compare(va) != 0 {
				t.Fatalf("%s: %q != itself", ord, a)
			}
			if erra == nil && errb == nil {
				if c1, c2 := va.Compare(vb), vb.Compare(va); c1 != -c2 {
					t.Fatalf("%s: Compare(%q, %q) = %d but Compare(%q, %q) = %d", ord, a, b, c1, b, a, c2)
				}
			}
		}
	})
}

func readLinesF(f *testing.F, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
