package version

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureEcosystem maps a testdata/<name>-versions.txt file to the
// ecosystem it tests (file names cannot hold "Red Hat"'s space).
func fixtureEcosystem(name string) string {
	if name == "RedHat" {
		return RedHat
	}
	return name
}

// readLines returns the non-comment, non-blank lines of a fixture with
// their line numbers.
func readLines(t *testing.T, path string) map[int]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[int]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines[n] = l
	}
	return lines
}

// TestVersionFixtures checks every `a OP b` line of every
// testdata/<ecosystem>-versions.txt in both directions.
func TestVersionFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*-versions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), "-versions.txt")
		if name == "invalid" {
			continue
		}
		eco := fixtureEcosystem(name)
		seen[eco] = true
		t.Run(name, func(t *testing.T) {
			lines := readLines(t, file)
			if len(lines) < 5 {
				t.Fatalf("%s has %d cases, want at least 5", file, len(lines))
			}
			for n, l := range lines {
				f := strings.Fields(l)
				if len(f) != 3 {
					t.Fatalf("%s:%d: want `a OP b`, got %q", file, n, l)
				}
				want := map[string]int{"<": -1, "==": 0, ">": 1}
				w, ok := want[f[1]]
				if !ok {
					t.Fatalf("%s:%d: unknown operator %q", file, n, f[1])
				}
				a, err := Parse(eco, f[0])
				if err != nil {
					t.Errorf("%s:%d: %v", file, n, err)
					continue
				}
				b, err := Parse(eco, f[2])
				if err != nil {
					t.Errorf("%s:%d: %v", file, n, err)
					continue
				}
				if got := a.Compare(b); got != w {
					t.Errorf("%s:%d: Compare(%s, %s) = %d, want %d", file, n, f[0], f[2], got, w)
				}
				if got := b.Compare(a); got != -w {
					t.Errorf("%s:%d: Compare(%s, %s) = %d, want %d", file, n, f[2], f[0], got, -w)
				}
			}
		})
	}
	for _, eco := range []string{Debian, Ubuntu, Alpine, RedHat, Go, PyPI, Npm, Maven, RubyGems, CratesIO, NuGet, Packagist} {
		if !seen[eco] {
			t.Errorf("no testdata fixture for %s", eco)
		}
	}
}

func TestInvalidVersions(t *testing.T) {
	path := filepath.Join("testdata", "invalid-versions.txt")
	for n, l := range readLines(t, path) {
		eco, v, ok := strings.Cut(l, "|")
		if !ok {
			t.Fatalf("%s:%d: want `ecosystem | version`", path, n)
		}
		eco, v = strings.TrimSpace(eco), strings.TrimPrefix(v, " ")
		if _, err := Parse(eco, v); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("%s:%d: Parse(%q, %q) = %v, want ErrInvalidVersion", path, n, eco, v, err)
		}
	}
}

func TestUnsupportedEcosystem(t *testing.T) {
	for _, eco := range []string{"Hex", "", "debian"} {
		if _, err := Parse(eco, "1.0"); !errors.Is(err, ErrUnsupportedEcosystem) {
			t.Errorf("Parse(%q) = %v, want ErrUnsupportedEcosystem", eco, err)
		}
	}
}

func TestReleaseSuffixChoosesBase(t *testing.T) {
	tests := []struct{ eco, base string }{
		{"Debian:12", Debian},
		{"Alpine:v3.19", Alpine},
		{"Ubuntu:Pro:22.04:LTS", Ubuntu},
		{"Go", Go},
	}
	for _, tt := range tests {
		t.Run(tt.eco, func(t *testing.T) {
			if got := Base(tt.eco); got != tt.base {
				t.Errorf("Base(%q) = %q, want %q", tt.eco, got, tt.base)
			}
			if _, err := Parse(tt.eco, "1.0.0"); err != nil {
				t.Errorf("Parse(%q, 1.0.0): %v", tt.eco, err)
			}
		})
	}
}

func TestNormalizeGo(t *testing.T) {
	tests := map[string]string{
		"go1.21rc2":  "1.21.0-rc.2",
		"go1.21":     "1.21.0",
		"go1.21.3":   "1.21.3",
		"go1.9beta1": "1.9.0-beta.1",
		"v1.2.3":     "1.2.3",
		"1.2.3":      "1.2.3",
		"golang.org": "golang.org",
	}
	for in, want := range tests {
		if got := NormalizeGo(in); got != want {
			t.Errorf("NormalizeGo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMixedOrderingsNeverEqual(t *testing.T) {
	a, _ := Parse(Debian, "1.0")
	b, _ := Parse(PyPI, "1.0")
	if a.Compare(b) == 0 || a.Compare(b) != -b.Compare(a) {
		t.Errorf("versions of two orderings compared %d / %d", a.Compare(b), b.Compare(a))
	}
}
