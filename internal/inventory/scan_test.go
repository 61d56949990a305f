package inventory

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// layered renders packages with the layer they arrived in and their purl.
func layered(pkgs []Package) []string {
	var out []string
	for _, p := range pkgs {
		s := fmt.Sprintf("%s %s@%s", p.Type, p.Name, p.Version)
		if p.Layer != nil {
			s += fmt.Sprintf(" L%d", p.Layer.Index+1)
		}
		s += " " + p.FilePath + " " + p.PURL
		if len(p.Licenses) > 0 {
			s += " [" + strings.Join(p.Licenses, "|") + "]"
		}
		out = append(out, s)
	}
	return out
}

// scanLayout writes img as an OCI layout and scans it.
func scanLayout(t *testing.T, img v1.Image, o Options) *Inventory {
	t.Helper()
	dir := t.TempDir()
	registrytest.WriteLayout(t, dir, img, "")
	inv, err := Collect(context.Background(), Target{Kind: KindOCIDir, Value: dir}, o)
	if err != nil {
		t.Fatalf("scanning: %v", err)
	}
	return inv
}

var debianWant = []string{
	"dpkg base-files@12.4+deb12u5 L1 var/lib/dpkg/status pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12",
	// Upgraded in layer 4: the new version arrived there.
	"dpkg libc6@2.36-9+deb12u7 L4 var/lib/dpkg/status pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc",
	// Installed in layer 2, still listed by layer 4's rewritten database.
	"dpkg libssl3@3.0.11-1~deb12u2 L2 var/lib/dpkg/status pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl [Apache-2.0]",
	// zlib1g was removed in layer 4; express and qs went with the opaque node_modules.
	"jar com.example:shop@2.1.0 L3 opt/shop.war pkg:maven/com.example/shop@2.1.0",
	"jar org.apache.commons:commons-text@1.9 L3 opt/shop.war/WEB-INF/lib/commons-text-1.9.jar pkg:maven/org.apache.commons/commons-text@1.9",
	"jar com.fasterxml.jackson.core:jackson-databind@2.13.0 L3 opt/shop.war/WEB-INF/lib/jackson-databind-2.13.0.jar pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.0",
	"node-pkg lodash@4.17.20 L4 app/node_modules/lodash/package.json pkg:npm/lodash@4.17.20 [MIT]",
	// requests' dist-info was whited out in layer 4.
	"python-pkg PyYAML@5.4.1 L3 usr/lib/python3/dist-packages/PyYAML-5.4.1.egg-info pkg:pypi/pyyaml@5.4.1 [MIT]",
}

func TestScanDebianImage(t *testing.T) {
	t.Parallel()
	inv := scanLayout(t, registrytest.DebianImage(t), Options{})
	if d := cmp.Diff(debianWant, layered(inv.Packages)); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	wantOS := &OS{Family: "debian", Name: "12.5", ID: "debian", VersionID: "12", Codename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
	if d := cmp.Diff(wantOS, inv.OS); d != "" {
		t.Errorf("OS (-want +got):\n%s", d)
	}
	if got := inv.OS.OSVEcosystem(); got != "Debian:12" {
		t.Errorf("OSVEcosystem = %q, want Debian:12", got)
	}
	if len(inv.Warnings) != 0 {
		t.Errorf("warnings: %q", inv.Warnings)
	}
	if c := inv.Source.Config; c == nil || len(c.History) != 4 || c.History[2].CreatedBy != "layer 3" || len(c.Config.Env) != 1 {
		t.Errorf("image config not passed on: %+v", c)
	}
	for _, p := range inv.Packages {
		if p.Layer == nil || p.Layer.Digest == "" || p.Layer.DiffID == "" {
			t.Errorf("%s: layer not fully attributed: %+v", p.Name, p.Layer)
		}
	}
}

func TestScanDistrolessWhiteout(t *testing.T) {
	t.Parallel()
	inv := scanLayout(t, registrytest.DistrolessImage(t), Options{})
	want := []string{
		"dpkg base-files@12.4+deb12u4 L1 var/lib/dpkg/status.d/base-files pkg:deb/debian/base-files@12.4%2Bdeb12u4?arch=amd64&distro=debian-12",
		"dpkg libssl3@3.0.11-1~deb12u2 L2 var/lib/dpkg/status.d/libssl3 pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
	}
	if d := cmp.Diff(want, layered(inv.Packages)); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	if inv.OS == nil || inv.OS.PrettyName != "Distroless" || inv.OS.Family != "debian" {
		t.Errorf("OS = %+v", inv.OS)
	}
}

func TestScanAlpineImage(t *testing.T) {
	t.Parallel()
	inv := scanLayout(t, registrytest.AlpineImage(t), Options{})
	want := []string{
		"apk busybox@1.36.1-r15 L1 lib/apk/db/installed pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1 [GPL-2.0-only]",
		"apk libcrypto3@3.1.4-r5 L2 lib/apk/db/installed pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl [Apache-2.0]",
		"apk libssl3@3.1.4-r5 L2 lib/apk/db/installed pkg:apk/alpine/libssl3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl [Apache-2.0]",
		"apk musl@1.2.4-r2 L1 lib/apk/db/installed pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1 [MIT]",
	}
	if d := cmp.Diff(want, layered(inv.Packages)); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	if got := inv.OS.OSVEcosystem(); got != "Alpine:v3.19" {
		t.Errorf("OSVEcosystem = %q", got)
	}
	for _, p := range inv.Packages {
		if p.Ecosystem != EcosystemAlpine {
			t.Errorf("%s: ecosystem %q", p.Name, p.Ecosystem)
		}
	}
}

// TestImageSources checks that every way of handing over an image gives
// the same inventory.
func TestImageSources(t *testing.T) {
	t.Parallel()
	img := registrytest.DebianImage(t)
	reg := registrytest.StartRegistry(t)
	registrytest.Push(t, reg.Host+"/shop/app:1.0", img)
	dir := t.TempDir()
	paths := map[string]string{}
	write := func(name string, fn func(p string)) {
		p := filepath.Join(dir, name)
		fn(p)
		paths[name] = p
	}
	write("classic.tar", func(p string) { registrytest.WriteDockerArchive(t, p, "shop/app:1.0", img) })
	write("docker25.tar", func(p string) { registrytest.WriteDocker25Archive(t, p, "shop/app:1.0", img) })
	write("oci.tar", func(p string) { registrytest.WriteOCIArchive(t, p, img, "1.0") })
	write("layout", func(p string) { registrytest.WriteLayout(t, p, img, "1.0") })
	write("classic.tar.gz", func(p string) {
		raw := filepath.Join(dir, "raw.tar")
		registrytest.WriteDockerArchive(t, raw, "shop/app:1.0", img)
		gzipFile(t, raw, p)
	})
	for _, tc := range []struct {
		name       string
		target     Target
		wantDigest bool // layer blob digests known
	}{
		{"registry", Target{KindRegistry, reg.Host + "/shop/app:1.0"}, true},
		{"docker save (classic)", Target{KindDockerArchive, paths["classic.tar"]}, false},
		{"docker save (gzip)", Target{KindDockerArchive, paths["classic.tar.gz"]}, false},
		{"docker save (Docker 25+ OCI-in-tar)", Target{KindDockerArchive, paths["docker25.tar"]}, true},
		{"OCI archive", Target{KindOCIArchive, paths["oci.tar"]}, true},
		{"OCI archive as docker-archive", Target{KindDockerArchive, paths["oci.tar"]}, true},
		{"OCI layout", Target{KindOCIDir, paths["layout"]}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inv, err := Collect(context.Background(), tc.target, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(debianWant, layered(inv.Packages)); d != "" {
				t.Errorf("packages (-want +got):\n%s", d)
			}
			cfgDigest, _ := img.ConfigName()
			if inv.Source.ImageID != cfgDigest.String() {
				t.Errorf("image ID %s, want %s", inv.Source.ImageID, cfgDigest)
			}
			diffIDs, _ := img.ConfigFile()
			for i, l := range inv.Source.Layers {
				if l.DiffID != diffIDs.RootFS.DiffIDs[i].String() {
					t.Errorf("layer %d diffID %s", i, l.DiffID)
				}
				if (l.Digest != "") != tc.wantDigest {
					t.Errorf("layer %d digest %q, want known=%v", i, l.Digest, tc.wantDigest)
				}
			}
		})
	}
}

func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, gzipBytes(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPlatformSelection(t *testing.T) {
	t.Parallel()
	idx := registrytest.Index(t, map[string]v1.Image{
		"linux/amd64": registrytest.DebianImage(t),
		"linux/arm64": registrytest.AlpineImage(t),
	})
	reg := registrytest.StartRegistry(t)
	registrytest.PushIndex(t, reg.Host+"/multi:1", idx)
	layoutDir := t.TempDir()
	registrytest.WriteLayoutIndex(t, layoutDir, idx)
	for _, tc := range []struct {
		platform string
		family   string
	}{
		{"linux/amd64", "debian"},
		{"linux/arm64", "alpine"},
	} {
		p, _ := v1.ParsePlatform(tc.platform)
		for _, target := range []Target{{KindRegistry, reg.Host + "/multi:1"}, {KindOCIDir, layoutDir}} {
			inv, err := Collect(context.Background(), target, Options{Image: image.Options{Platform: p}})
			if err != nil {
				t.Fatalf("%s %s: %v", target.Kind, tc.platform, err)
			}
			if inv.OS == nil || inv.OS.Family != tc.family {
				t.Errorf("%s %s: OS %+v, want %s", target.Kind, tc.platform, inv.OS, tc.family)
			}
		}
	}
	p, _ := v1.ParsePlatform("linux/s390x")
	if _, err := Collect(context.Background(), Target{KindOCIDir, layoutDir}, Options{Image: image.Options{Platform: p}}); err == nil || !strings.Contains(err.Error(), "no image for platform linux/s390x") {
		t.Errorf("missing platform: err = %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "layout")
	os.MkdirAll(layoutDir, 0o755)
	os.WriteFile(filepath.Join(layoutDir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	tarPath := filepath.Join(dir, "img.tar")
	os.WriteFile(tarPath, nil, 0o644)
	for in, want := range map[string]Target{
		"alpine:3.19":                   {KindRegistry, "alpine:3.19"},
		"localhost:5000/app:1.0":        {KindRegistry, "localhost:5000/app:1.0"},
		"registry:localhost:5000/app":   {KindRegistry, "localhost:5000/app"},
		"docker-archive:/tmp/x.tar":     {KindDockerArchive, "/tmp/x.tar"},
		"oci-dir:/tmp/layout":           {KindOCIDir, "/tmp/layout"},
		"oci-archive:x.tar":             {KindOCIArchive, "x.tar"},
		"dir:.":                         {KindDir, "."},
		"rootfs:/":                      {KindRootfs, "/"},
		"git:https://example.com/r.git": {KindGit, "https://example.com/r.git"},
		dir:                             {KindDir, dir},
		layoutDir:                       {KindOCIDir, layoutDir},
		tarPath:                         {KindDockerArchive, tarPath},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "dir:", "docker:nginx"} {
		if _, err := ParseTarget(in); err == nil {
			t.Errorf("ParseTarget(%q): no error", in)
		}
	}
}

// TestReplacedFilesHideLowerLayers checks that a file analysed in one
// layer is forgotten when a later layer puts something else at its path.
func TestReplacedFilesHideLowerLayers(t *testing.T) {
	t.Parallel()
	bin := buildGoBinary(t)
	img := registrytest.Image(t,
		registrytest.Layer(t,
			registrytest.Entry{Name: "usr/bin/app", Body: string(bin), Mode: 0o755},
			registrytest.File("app/node_modules/left-pad/package.json", `{"name": "left-pad", "version": "1.3.0"}`),
			registrytest.File("etc/os-release", "ID=alpine\nVERSION_ID=3.19.0\n"),
		),
		registrytest.Layer(t,
			registrytest.Exec("usr/bin/app", "#!/bin/sh\nexec /opt/app \"$@\"\n"),
			registrytest.Symlink("app/node_modules/left-pad/package.json", "/dev/null"),
			registrytest.Dir("etc/os-release/"),
		),
	)
	inv := scanLayout(t, img, Options{})
	if len(inv.Packages) != 0 || inv.OS != nil {
		t.Errorf("replaced files still reported: OS %+v, packages %v", inv.OS, layered(inv.Packages))
	}
}

// TestDirectoryEntriesKeepLowerFiles checks the converse: layers repeat
// the directory entries above every file they change, and that must not
// hide what lower layers have below those directories.
func TestDirectoryEntriesKeepLowerFiles(t *testing.T) {
	t.Parallel()
	img := registrytest.Image(t,
		registrytest.Layer(t,
			registrytest.Dir("var/lib/dpkg/"),
			registrytest.File("var/lib/dpkg/status", "Package: keep\nStatus: install ok installed\nVersion: 1\n"),
			registrytest.Dir("usr/lib/python3/dist-packages/six-1.16.0.egg-info/"),
			registrytest.File("usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", "Name: six\nVersion: 1.16.0\n"),
		),
		registrytest.Layer(t,
			registrytest.Dir("var/lib/dpkg/"),
			registrytest.File("var/lib/dpkg/lock", ""),
			registrytest.Dir("usr/lib/python3/dist-packages/six-1.16.0.egg-info/"),
			registrytest.File("usr/lib/python3/dist-packages/six-1.16.0.egg-info/top_level.txt", "six\n"),
		),
	)
	inv := scanLayout(t, img, Options{})
	if d := cmp.Diff([]string{"keep@1", "six@1.16.0"}, summary(inv.Packages)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestScanHostDpkgDatabase puts this machine's own dpkg database (written
// by dpkg, hundreds of packages) into an image and compares what tollgate
// reads with what dpkg-query says: name, version, architecture and the
// source package and version.
func TestScanHostDpkgDatabase(t *testing.T) {
	t.Parallel()
	dpkgQuery := needTool(t, "dpkg-query", "dpkg")
	status, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		skipUnlessRequired(t, "no dpkg database on this machine: %v", err)
	}
	out, err := exec.Command(dpkgQuery, "-W", "-f", "${db:Status-Status} ${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if rest, ok := strings.CutPrefix(l, "installed "); ok {
			want = append(want, rest)
		}
	}
	img := registrytest.Image(t, registrytest.Layer(t, registrytest.File("var/lib/dpkg/status", string(status))))
	inv := scanLayout(t, img, Options{})
	var got []string
	for _, p := range inv.Packages {
		got = append(got, strings.Join([]string{p.Name, p.Version, p.Arch, p.SrcName, p.SrcVersion}, " "))
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) < 10 {
		t.Fatalf("dpkg-query lists only %d installed packages", len(want))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tollgate vs dpkg-query (-dpkg +tollgate):\n%s", d)
	}
}
