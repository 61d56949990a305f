package inventory

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// buildGoBinary compiles a small program that imports go-cmp, offline
// (the module comes from the module cache this repository already needs).
func buildGoBinary(t *testing.T) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		skipUnlessRequired(t, "go toolchain not on PATH")
	}
	sum := goSumLines(t, "github.com/google/go-cmp v0.7.0")
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/shopctl\n\ngo 1.22\n\nrequire github.com/google/go-cmp v0.7.0\n",
		"go.sum":  sum,
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/google/go-cmp/cmp\"\n)\n\nfunc main() { fmt.Println(cmp.Diff(1, 2)) }\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "shopctl")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goSumLines returns this module's go.sum lines for a module version.
func goSumLines(t *testing.T, modVersion string) string {
	t.Helper()
	f, err := os.Open("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), modVersion+" ") || strings.HasPrefix(sc.Text(), modVersion+"/go.mod ") {
			out.WriteString(sc.Text() + "\n")
		}
	}
	if out.Len() == 0 {
		t.Fatalf("%s not in go.sum", modVersion)
	}
	return out.String()
}

func TestScanGoBinary(t *testing.T) {
	t.Parallel()
	bin := buildGoBinary(t)
	// A copy padded past the in-memory limit goes through a spill file;
	// trailing bytes do not disturb an ELF file's section table.
	big := append(append([]byte{}, bin...), make([]byte, memLimit)...)
	img := registrytest.Image(t,
		registrytest.Layer(t,
			registrytest.Entry{Name: "usr/local/bin/shopctl", Body: string(bin), Mode: 0o755},
			registrytest.Entry{Name: "opt/big/shopctl", Body: string(big), Mode: 0o755},
			// Not executable: Go binaries are looked for among executables only.
			registrytest.Entry{Name: "opt/data/shopctl.copy", Body: string(bin), Mode: 0o644},
			registrytest.Exec("usr/local/bin/script", "#!/bin/sh\necho hi\n"),
		),
	)
	inv := scanLayout(t, img, Options{})
	goVer := goToolchainVersion(runtime.Version())
	var want []string
	for _, p := range []string{"opt/big/shopctl", "usr/local/bin/shopctl"} {
		want = append(want,
			"gobinary example.com/shopctl@ L1 "+p+" pkg:golang/example.com/shopctl",
			"gobinary github.com/google/go-cmp@0.7.0 L1 "+p+" pkg:golang/github.com/google/go-cmp@v0.7.0",
			"gobinary stdlib@"+goVer+" L1 "+p+" pkg:golang/stdlib@v"+goVer,
		)
	}
	if d := cmp.Diff(want, layered(inv.Packages)); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	for _, p := range inv.Packages {
		if p.Ecosystem != EcosystemGo {
			t.Errorf("%s: ecosystem %q", p.Name, p.Ecosystem)
		}
		if p.Name == "example.com/shopctl" && !p.Main {
			t.Errorf("main module not marked main")
		}
		// The packages each module has code of in the binary: go-cmp's cmp
		// (and what it uses), never cmpopts, which the program does not import.
		c := p.GoCode
		if c == nil || c.Unread != "" {
			t.Fatalf("%s: no package list: %+v", p.Name, c)
		}
		switch p.Name {
		case "github.com/google/go-cmp":
			if !c.HasGoPackage("github.com/google/go-cmp/cmp") || !c.HasGoPackage("github.com/google/go-cmp/cmp/internal/diff") || c.HasGoPackage("github.com/google/go-cmp/cmp/cmpopts") {
				t.Errorf("go-cmp's packages: %q", c.Packages)
			}
			for _, q := range c.Packages {
				if !strings.HasPrefix(q, "github.com/google/go-cmp/") {
					t.Errorf("go-cmp lists %q", q)
				}
			}
		case "example.com/shopctl":
			if d := cmp.Diff([]string{"example.com/shopctl"}, c.Packages); d != "" {
				t.Errorf("the main module's packages: the program's main package (-want +got):\n%s", d)
			}
		case "stdlib":
			if !c.HasGoPackage("fmt") || !c.HasGoPackage("runtime") || c.HasGoPackage("net/http") || c.HasGoPackage("github.com/google/go-cmp/cmp") {
				t.Errorf("stdlib's packages: %q", c.Packages)
			}
		}
	}
}

func TestFuncNamePackages(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"main.main", []string{"main"}},
		{"runtime.gcStart", []string{"runtime"}},
		{"net/http.(*Client).Do", []string{"net/http"}},
		{"golang.org/x/net/html.Parse", []string{"golang.org/x/net/html"}},
		{"golang.org/x/net/html.(*Tokenizer).Next.func1", []string{"golang.org/x/net/html"}},
		{"gopkg.in/yaml%2ev3.Unmarshal", []string{"gopkg.in/yaml.v3"}},
		{"example.com/bad%zzescape.F", []string{"example.com/bad%zzescape"}},
		{"example.com/nul%00.F", nil},
		{"example.com/sp%20ace.F", nil},
		{"slices.Sort[go.shape.[]example.com/a.T]", []string{"slices"}},
		{"example.com/gen.(*List[go.shape.string]).Push", []string{"example.com/gen"}},
		{"example.com/gen.Map[go.shape.int,example.com/x/y.Z].func2", []string{"example.com/gen"}},
		{"type:.eq.example.com/m/p.T", []string{"example.com/m/p"}},
		// A promoted unexported method of another package: ambiguous with
		// a dotted middle element, so both readings.
		{"example.com/m/p.(*T).database/sql.close", []string{"example.com/m/p"}},
		{"example.com/m/p.T.database/sql.close", []string{"example.com/m/p.T.database/sql", "example.com/m/p"}},
		{"gopkg.in/src-d/go-git.v4/plumbing.New", []string{"gopkg.in/src-d/go-git.v4/plumbing", "gopkg.in/src-d/go-git"}},
		{"type..eq.[2]interface {}", nil},
		{"type:.eq.go.shape.struct { F int }", nil},
		{"go:buildid", nil},
		{"go.shape.int", nil},
		{"_cgo_init", nil},
		{"x_cgo_munmap.cold", nil},
		{"crosscall2.part.0", nil},
		{"", nil},
		{"/abs.F", nil},
		{"with space/p.F", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := packagesOfFuncNames([]byte(tt.name + "\x00"))
			if tt.want != nil {
				tt.want = slices.Sorted(slices.Values(tt.want))
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("packages of %q (-want +got):\n%s", tt.name, d)
			}
		})
	}
}

// pclntab builds a Go 1.20 pclntab header (or magic's) with a name
// table, in the byte order and pointer size given.
func pclntab(order binary.AppendByteOrder, ptrSize int, magic uint32, names ...string) []byte {
	table := []byte(strings.Join(names, "\x00") + "\x00")
	words := 8
	if magic == pclntab116 {
		words = 7
	}
	header := 8 + words*ptrSize
	b := order.AppendUint32(nil, magic)
	b = append(b, 0, 0, 1, byte(ptrSize))
	nameAt := 3
	if magic == pclntab116 {
		nameAt = 2
	}
	for i := range words {
		v := uint64(0)
		switch {
		case i == 0:
			v = uint64(len(names))
		case i == nameAt:
			v = uint64(header)
		case i > nameAt:
			v = uint64(header + len(table))
		}
		if ptrSize == 4 {
			b = order.AppendUint32(b, uint32(v))
		} else {
			b = order.AppendUint64(b, v)
		}
	}
	return append(b, table...)
}

func TestGoBinaryPackagesFormats(t *testing.T) {
	names := []string{"go:buildid", "runtime.main", "main.main", "example.com/m/p.F", "example.com/m/p.(*T).M", "fmt.Println"}
	want := []string{"example.com/m/p", "fmt", "main", "runtime"}
	junk := bytes.Repeat([]byte{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8, 0xaa}, 3) // magic-like bytes that lead nowhere
	tests := []struct {
		name    string
		file    []byte
		want    []string
		wantErr string
	}{
		{"1.20 little-endian 64-bit", append(append([]byte{}, junk...), pclntab(binary.LittleEndian, 8, pclntab120, names...)...), want, ""},
		{"1.18 big-endian 32-bit", pclntab(binary.BigEndian, 4, pclntab118, names...), want, ""},
		{"1.16 little-endian 32-bit", pclntab(binary.LittleEndian, 4, pclntab116, names...), want, ""},
		{"no runtime.main: not taken for a table", pclntab(binary.LittleEndian, 8, pclntab120, "main.main"), nil, "no Go function table"},
		{"Go 1.2 format", pclntab(binary.LittleEndian, 8, pclntab12, names...), nil, "predates Go 1.16"},
		{"name table past the end", pclntab(binary.LittleEndian, 8, pclntab120, names...)[:80], nil, "no Go function table"},
		{"not a PE file", []byte("MZ not really"), nil, "PE headers are malformed"},
		{"nothing", []byte("\x00\x01\x02\x03 no table"), nil, "no Go function table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := goBinaryPackages(bytes.NewReader(tt.file), int64(len(tt.file)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q (packages %q)", err, tt.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("packages (-want +got):\n%s", d)
			}
		})
	}
}

// TestGoBinaryPackagesOfTestBinary reads the package list of this test's
// own executable: every package in it is one `go list -deps -test` names
// for this package, and the ones it surely runs are there.
func TestGoBinaryPackagesOfTestBinary(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		skipUnlessRequired(t, "go toolchain not on PATH")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	got, err := goBinaryPackages(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	table, err := funcNameTable(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(packagesOneByOne(table), got); d != "" {
		t.Errorf("packages differ from the union of each name's (-union +got):\n%s", d)
	}
	out, err := exec.Command(goBin, "list", "-deps", "-test", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string]bool{"main": true}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	for _, p := range got {
		// A promoted method of another package's unexported method also
		// reads as a path (see funcPackages): dep.T.other/pkg.
		if !deps[p] && !methodOfDep(p, deps) {
			t.Errorf("package %q read from the binary is not a dependency", p)
		}
	}
	for _, p := range []string{"runtime", "testing", "debug/elf", "github.com/google/go-cmp/cmp", "github.com/tollgate-dev/tollgate/internal/inventory", "github.com/tollgate-dev/tollgate/internal/registrytest"} {
		if !slices.Contains(got, p) {
			t.Errorf("package %q missing from the binary's list (%d packages)", p, len(got))
		}
	}
	for _, p := range []string{"net/smtp", "github.com/google/go-cmp/cmp/cmpopts"} {
		if deps[p] || slices.Contains(got, p) {
			t.Errorf("package %q: chosen as one this test does not use, but it is listed", p)
		}
	}
}

// TestGoBinaryPackagesWithoutSection hides an ELF binary's .gopclntab
// section name: the table is then found by its header, with the same
// packages.
func TestGoBinaryPackagesWithoutSection(t *testing.T) {
	bin := buildGoBinary(t)
	want, err := goBinaryPackages(bytes.NewReader(bin), int64(len(bin)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(want, "github.com/google/go-cmp/cmp") {
		t.Fatalf("go-cmp's package missing: %q", want)
	}
	i := bytes.Index(bin, []byte("\x00.gopclntab\x00"))
	if i < 0 {
		t.Fatal("no .gopclntab section name in the binary")
	}
	hidden := append([]byte(nil), bin...)
	copy(hidden[i+1:], ".xopclntab")
	got, err := goBinaryPackages(bytes.NewReader(hidden), int64(len(hidden)))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("packages (-named section +found by header):\n%s", d)
	}
}

// methodOfDep reports whether p reads as dep.T.other/pkg for a dep.
func methodOfDep(p string, deps map[string]bool) bool {
	for d := range deps {
		if strings.HasPrefix(p, d+".") && strings.Contains(p[len(d):], "/") {
			return true
		}
	}
	return false
}

// packagesOneByOne is packagesOfFuncNames name by name, without the
// shortcut for names of the package before: the union of their packages.
func packagesOneByOne(table []byte) []string {
	var union []string
	for name := range bytes.SplitSeq(table, []byte{0}) {
		union = append(union, packagesOfFuncNames(append(slices.Clone(name), 0))...)
	}
	slices.Sort(union)
	return slices.Compact(union)
}

// TestGoBinaryPackagesPE reads a stripped Windows executable, where no
// section is named for the function table: it is found by its header in
// .rdata.
func TestGoBinaryPackagesPE(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		skipUnlessRequired(t, "go toolchain not on PATH")
	}
	dir := t.TempDir()
	for n, c := range map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"net/url\"\n)\n\nfunc main() { fmt.Println(url.PathEscape(\"a b\")) }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", "hello.exe", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOWORK=off", "CGO_ENABLED=0", "GOOS=windows", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	f, err := os.Open(filepath.Join(dir, "hello.exe"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, named, err := pclntabSection(f, st.Size()); err != nil || named {
		t.Fatalf("PE: named section %v, %v: the search path is not what this test covers", named, err)
	}
	got, err := goBinaryPackages(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"main", "fmt", "net/url", "runtime"} {
		if !slices.Contains(got, p) {
			t.Errorf("%s missing: %q", p, got)
		}
	}
	if slices.Contains(got, "net/http") {
		t.Errorf("net/http listed, not in the program: %q", got)
	}
}
