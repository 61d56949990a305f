// Package scantest builds the images the scan tests scan: small images
// whose package databases carry versions the project's fixture advisories
// (examples/vulndb) know to be vulnerable, and a Go binary built against
// an old golang.org/x/net.
package scantest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// dpkg renders one dpkg status paragraph.
func dpkg(name, version, source, maintainer string) string {
	var b strings.Builder
	b.WriteString("Package: " + name + "\nStatus: install ok installed\nPriority: optional\nSection: libs\n")
	b.WriteString("Maintainer: " + maintainer + "\nArchitecture: amd64\n")
	if source != "" {
		b.WriteString("Source: " + source + "\n")
	}
	b.WriteString("Version: " + version + "\nDescription: " + name + "\n a test package\n")
	return b.String()
}

const debianMaint = "Debian Maintainers <maint@lists.debian.org>"

// BullseyeImage is a Debian 11 image with:
//   - libssl1.1 1.1.1n-0+deb11u5 (source openssl): CVE-2023-50001 and
//     CVE-2023-50002 through DLA-9002-1 and the DEBIAN-CVE records;
//   - libc6 2.31-13+deb11u5 (source glibc): CVE-2024-50003, unfixed;
//   - zlib1g 1:1.2.11.dfsg-2+b1, a binNMU of zlib 1:1.2.11.dfsg-2:
//     CVE-2024-50005;
//   - curl 7.74.0-1.3+deb11u3: CVE-2024-50007, and a fixed curl is not
//     matched;
//   - nginx 1.25.3-1~bullseye from nginx.org's repository: not matched
//     (third party), although DEBIAN-CVE-2024-50006 names Debian's nginx;
//   - in a second layer, an application: PyYAML 5.4.1 in site-packages,
//     lodash 4.17.20 and qs 6.7.0 in node_modules, commons-text 1.9 in a
//     jar, and goBinary (when given) at usr/local/bin/app.
func BullseyeImage(tb testing.TB, goBinary []byte) v1.Image {
	tb.Helper()
	status := strings.Join([]string{
		dpkg("base-files", "11.1+deb11u9", "", debianMaint),
		dpkg("libssl1.1", "1.1.1n-0+deb11u5", "openssl", debianMaint),
		dpkg("libc6", "2.31-13+deb11u5", "glibc", debianMaint),
		dpkg("zlib1g", "1:1.2.11.dfsg-2+b1", "zlib (1:1.2.11.dfsg-2)", debianMaint),
		dpkg("curl", "7.74.0-1.3+deb11u3", "", debianMaint),
		dpkg("nginx", "1.25.3-1~bullseye", "", "NGINX Packaging <nginx-packaging@f5.com>"),
	}, "\n")
	app := []registrytest.Entry{
		registrytest.File("usr/local/lib/python3.9/site-packages/PyYAML-5.4.1.dist-info/METADATA",
			"Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.4.1\nLicense: MIT\n"),
		registrytest.File("srv/web/node_modules/lodash/package.json", `{"name": "lodash", "version": "4.17.20", "license": "MIT"}`),
		registrytest.File("srv/web/node_modules/qs/package.json", `{"name": "qs", "version": "6.7.0", "license": "BSD-3-Clause"}`),
		{Name: "opt/app/lib/commons-text-1.9.jar", Body: string(registrytest.Jar(tb, "", []string{"org.apache.commons:commons-text:1.9"}, nil))},
	}
	if goBinary != nil {
		app = append(app, registrytest.Entry{Name: "usr/local/bin/app", Body: string(goBinary), Mode: 0o755})
	}
	return registrytest.Image(tb,
		registrytest.Layer(tb,
			registrytest.File("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"11\"\nVERSION=\"11 (bullseye)\"\nVERSION_CODENAME=bullseye\nID=debian\n"),
			registrytest.File("etc/debian_version", "11.9\n"),
			registrytest.File("var/lib/dpkg/status", status),
		),
		registrytest.Layer(tb, app...),
	)
}

// XNetSum is the go.sum hash of golang.org/x/net v0.7.0, checked after
// the download so the test binary is built from the module it claims.
const XNetSum = "golang.org/x/net v0.7.0 h1:rJrUqqhjsgNp7KqAIc25s9pZnjU7TUcSY7HcVZjdn1g="

// GoBinary builds a small program against golang.org/x/net v0.7.0 (a
// version the fixture GO-2099-0001 affects), through the Go module proxy.
// Without the go toolchain or the proxy the test skips, or fails under
// TOLLGATE_REQUIRE_E2E=1.
func GoBinary(tb testing.TB) []byte {
	tb.Helper()
	return buildGoBinary(tb)
}

// StrippedGoBinary is GoBinary linked with -s -w (no symbol table, no
// DWARF), as release builds and tollgate's own Makefile link.
func StrippedGoBinary(tb testing.TB) []byte {
	tb.Helper()
	return buildGoBinary(tb, "-ldflags=-s -w")
}

func buildGoBinary(tb testing.TB, flags ...string) []byte {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		SkipUnlessRequired(tb, "go toolchain not on PATH")
	}
	dir := tb.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/webapp\n\ngo 1.22\n\nrequire golang.org/x/net v0.7.0\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n\n\t\"golang.org/x/net/html\"\n)\n\nfunc main() {\n\t_, err := html.Parse(strings.NewReader(\"<p>hi\"))\n\tfmt.Println(err)\n}\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	run := func(args ...string) {
		cmd := exec.Command(goBin, args...)
		cmd.Dir, cmd.Env = dir, env
		if b, err := cmd.CombinedOutput(); err != nil {
			SkipUnlessRequired(tb, "go "+strings.Join(args, " ")+" (needs the Go module proxy): "+err.Error()+"\n"+string(b))
		}
	}
	run("mod", "download", "golang.org/x/net")
	run(append(append([]string{"build", "-trimpath"}, flags...), "-o", "app", ".")...)
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil || !strings.Contains(string(sum), XNetSum) {
		tb.Fatalf("go.sum does not hold %q:\n%s", XNetSum, sum)
	}
	b, err := os.ReadFile(filepath.Join(dir, "app"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// SkipUnlessRequired skips the test with why, or fails it under
// TOLLGATE_REQUIRE_E2E=1 (CI), where every tool must be present.
func SkipUnlessRequired(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("TOLLGATE_REQUIRE_E2E") == "1" {
		tb.Fatalf("%s, and TOLLGATE_REQUIRE_E2E=1", why)
	}
	tb.Skip(why)
}
