package inventory

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// The fuzz targets check that parsers never panic or hang on any input
// and that what they return is well formed. Their seed corpora are the
// testdata files, so `go test` runs every seed as a regular test.

func addSeeds(f *testing.F, glob string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds for %s", glob)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkPackages(t *testing.T, pkgs []Package) {
	t.Helper()
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" {
			t.Fatalf("package without name or version: %+v", p)
		}
		if strings.ContainsAny(p.Name, "\n") || strings.ContainsAny(p.Version, "\n") {
			t.Fatalf("newline in name or version: %+v", p)
		}
	}
}

func FuzzDpkgStatus(f *testing.F) {
	addSeeds(f, "dpkg/status")
	addSeeds(f, "dpkg/status.d/*")
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1\n\n\n \nPackage: b\n"))
	f.Add([]byte("Package:\n Version: 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, optional := range []bool{false, true} {
			pkgs, err := parseDpkgStatus(bytes.NewReader(b), optional)
			if err != nil {
				continue
			}
			checkPackages(t, pkgs)
			for _, p := range pkgs {
				if p.SrcName == "" || p.SrcVersion == "" {
					t.Fatalf("dpkg package without source: %+v", p)
				}
			}
		}
	})
}

func FuzzApkInstalled(f *testing.F) {
	addSeeds(f, "apk/installed")
	f.Add([]byte("P:a\nV:1\n\nP:b\nV:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := parseApkInstalled(bytes.NewReader(b))
		if err != nil {
			return
		}
		checkPackages(t, pkgs)
	})
}

// lockParsers are the lock-file parsers, indexed for FuzzLockfiles.
var lockParsers = []struct {
	glob  string
	parse func(io.Reader) ([]Package, error)
}{
	{"project/go.mod", parseGoMod},
	{"project/*/package-lock.json", parsePackageLock},
	{"project/*/yarn.lock", parseYarnLock},
	{"project/*/pnpm-lock.yaml", parsePnpmLock},
	{"project/*/requirements.txt", parseRequirements},
	{"project/*/poetry.lock", parsePoetryLock},
	{"project/*/Pipfile.lock", parsePipfileLock},
	{"project/*/Cargo.lock", parseCargoLock},
	{"project/*/Gemfile.lock", parseGemfileLock},
	{"project/*/composer.lock", parseComposerLock},
	{"python/*", func(r io.Reader) ([]Package, error) {
		p, ok, err := parsePythonMetadata(r)
		if !ok || err != nil {
			return nil, err
		}
		return []Package{p}, nil
	}},
}

// FuzzLockfiles feeds every input to every lock-file parser (and the
// Python metadata parser): formats are often confused for one another, so
// each parser must cope with the others' files too.
func FuzzLockfiles(f *testing.F) {
	for _, lp := range lockParsers {
		addSeeds(f, lp.glob)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lp := range lockParsers {
			pkgs, err := lp.parse(bytes.NewReader(b))
			if err != nil {
				continue
			}
			checkPackages(t, pkgs)
			for _, p := range pkgs {
				if utf8.ValidString(string(b)) && !utf8.ValidString(p.Name) {
					t.Fatalf("%s: invalid UTF-8 name from valid input", lp.glob)
				}
			}
		}
	})
}

// FuzzJar checks the Java archive reader (zip directory, nested archives,
// manifests, pom.properties) on arbitrary bytes.
func FuzzJar(f *testing.F) {
	f.Add(registrytest.Jar(f, "Manifest-Version: 1.0\nImplementation-Title: app\nImplementation-Version: 1.0\n",
		[]string{"com.example:app:1.0"},
		map[string][]byte{"BOOT-INF/lib/dep-2.0.jar": registrytest.Jar(f, "", []string{"org.example:dep:2.0"}, nil)}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, b []byte) {
		// A small budget keeps each run short; the limit itself is tested
		// in java_test.go.
		pkgs, err := parseJar(bytes.NewReader(b), int64(len(b)), "app.jar", 0, &jarBudget{8 << 20})
		if err != nil {
			return
		}
		checkPackages(t, pkgs)
	})
}

// FuzzRPMDB feeds arbitrary files to the rpm database reader (go-rpmdb
// and SQLite). The seeds start like each of the three formats.
func FuzzRPMDB(f *testing.F) {
	bdb := make([]byte, 4096)
	copy(bdb[12:], []byte{0x61, 0x15, 0x06, 0x00}) // hash database magic
	bdb[16] = 9                                    // version
	copy(bdb[20:], []byte{0x00, 0x10, 0x00, 0x00}) // page size 4096
	f.Add(bdb)
	f.Add(append([]byte("SQLite format 3\x00"), make([]byte, 200)...))
	f.Add(append([]byte("RpmP"), make([]byte, 60)...))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "db")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		pkgs, err := readRPMDB(p)
		if err != nil {
			return
		}
		checkPackages(t, pkgs)
	})
}

// FuzzGoBinaryPackages feeds arbitrary files to the Go function table
// reader (ELF, PE, Mach-O headers; a pclntab found by name or by its
// header), without the recover that guards it in scans, so a panic of
// ours shows. Seeds: synthetic tables of each format and the headers of
// each object format.
func FuzzGoBinaryPackages(f *testing.F) {
	names := []string{"runtime.main", "main.main", "example.com/m/p.(*T).M", "gopkg.in/yaml%2ev3.F"}
	f.Add(pclntab(binary.LittleEndian, 8, pclntab120, names...))
	f.Add(pclntab(binary.BigEndian, 4, pclntab118, names...))
	f.Add(pclntab(binary.LittleEndian, 4, pclntab116, names...))
	f.Add(append([]byte("\x7fELF\x02\x01\x01\x00"), pclntab(binary.LittleEndian, 8, pclntab120, names...)...))
	f.Add(append([]byte("MZ\x90\x00"), pclntab(binary.LittleEndian, 8, pclntab120, names...)...))
	f.Add([]byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		table, err := funcNameTable(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if len(table) > len(b) {
			t.Fatalf("name table of %d bytes from a %d-byte file", len(table), len(b))
		}
		pkgs := packagesOfFuncNames(table)
		if !slices.IsSorted(pkgs) || len(slices.Compact(slices.Clone(pkgs))) != len(pkgs) {
			t.Fatalf("packages not sorted and distinct: %q", pkgs)
		}
		for _, p := range pkgs {
			if p == "" || strings.ContainsAny(p, "\x00 \n") {
				t.Fatalf("bad package path %q", p)
			}
		}
		// The list is the union of each name's packages (the reader skips
		// names of the package before without parsing them).
		if d := cmp.Diff(packagesOneByOne(table), pkgs); d != "" {
			t.Fatalf("packages differ from the union of each name's (-union +got):\n%s", d)
		}
	})
}
