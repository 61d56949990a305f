package inventory

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	}
}
