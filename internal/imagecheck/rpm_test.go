package imagecheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// rpmSpec builds two noarch packages: strace (a debug tool TG202 knows)
// and tg-app (not one). Names only: the files are placeholders.
const rpmSpec = `Name: strace
Version: 6.1
Release: 1.el9
Summary: tollgate test package named like the tracer
License: MIT
BuildArch: noarch

%description
Test package.

%package -n tg-app
Summary: tollgate test application
%description -n tg-app
Test package.

%install
mkdir -p %{buildroot}/usr/share/strace %{buildroot}/usr/share/tg-app
echo strace > %{buildroot}/usr/share/strace/README
echo app > %{buildroot}/usr/share/tg-app/README

%files
/usr/share/strace/README

%files -n tg-app
/usr/share/tg-app/README
`

// rpmDatabases builds the packages with rpmbuild and returns SQLite rpm
// databases (rpmdb.sqlite content) with the given package sets installed
// by Debian's rpm (scripts/test-deps.sh installs it).
func rpmDatabases(t *testing.T, sets ...[]string) []string {
	t.Helper()
	var tools []string
	for _, name := range []string{"rpmbuild", "rpm"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("TOLLGATE_REQUIRE_E2E") == "1" {
				t.Fatalf("%s not found: install the Debian package rpm (TOLLGATE_REQUIRE_E2E=1 forbids skipping)", name)
			}
			t.Skipf("%s not found: install the Debian package rpm to run this test", name)
		}
		tools = append(tools, p)
	}
	top := t.TempDir()
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "HOME="+top)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	spec := filepath.Join(top, "tg.spec")
	if err := os.WriteFile(spec, []byte(rpmSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	run(tools[0], "--define", "_topdir "+top, "-bb", spec)
	var out []string
	for _, set := range sets {
		root := t.TempDir()
		db := []string{"--root", root, "--dbpath", "/var/lib/rpm", "--define", "_db_backend sqlite", "--noplugins"}
		run(tools[1], append(db, "--initdb")...)
		var rpms []string
		for _, name := range set {
			m, _ := filepath.Glob(filepath.Join(top, "RPMS", "noarch", name+"-[0-9]*.rpm"))
			if len(m) != 1 {
				t.Fatalf("rpmbuild made %v for %s", m, name)
			}
			rpms = append(rpms, m[0])
		}
		run(tools[1], append(append(db, "-i", "--nodeps", "--justdb", "--nosignature"), rpms...)...)
		b, err := os.ReadFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// TestDebugToolsRPM: TG202 reads rpm databases too, layer by layer: a
// tool installed in a layer is reported with that layer, one a later
// layer removes is not, and an image without one has no finding.
func TestDebugToolsRPM(t *testing.T) {
	dbs := rpmDatabases(t, []string{"tg-app"}, []string{"tg-app", "strace"})
	appOnly, withStrace := dbs[0], dbs[1]
	const db = "var/lib/rpm/rpmdb.sqlite"
	base := layer("ADD rocky-rootfs.tar.xz / # buildkit",
		registrytest.File("etc/os-release", "NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n"),
		registrytest.File("etc/passwd", "root:x:0:0:root:/root:/bin/bash\napp:x:10001:10001::/home/app:/sbin/nologin\n"),
		registrytest.File(db, appOnly))
	install := layer("RUN /bin/sh -c dnf install -y strace # buildkit", registrytest.File(db, withStrace))
	remove := layer("RUN /bin/sh -c dnf remove -y strace # buildkit", registrytest.File(db, appOnly))
	dnf := layer("RUN /bin/sh -c microdnf install -y dnf # buildkit", registrytest.Exec("usr/bin/dnf", "#!/usr/bin/python3\n"))
	for _, tc := range []struct {
		name  string
		steps []step
		want  []got
	}{
		{"no debug tool", []step{base}, nil},
		{"strace installed", []step{base, install}, []got{{IDDebugTools, 1, db}}},
		{"strace installed, then removed", []step{base, install, remove}, nil},
		{"a full distribution: rpm's installed sizes", []step{base, dnf}, []got{{IDFullBase, 0, "etc/os-release"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := buildImage(t, defaultConfig(), tc.steps...)
			res := checkCached(t, img, Options{Secrets: secretScanner(t)})
			if diff := cmp.Diff(tc.want, reduce(img, res.Misconfigurations)); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, messages(res.Misconfigurations))
			}
			for _, f := range res.Misconfigurations {
				switch f.ID {
				case IDDebugTools:
					if !strings.Contains(f.Message, "strace is installed") {
						t.Errorf("message %q", f.Message)
					}
				case IDFullBase:
					// tg-app's one file: "app\n".
					if f.Size != 4 || !strings.Contains(f.Message, "4 B installed, the sum of rpm's installed sizes") {
						t.Errorf("size %d, message %q", f.Size, f.Message)
					}
				}
			}
			if len(res.Warnings) > 0 {
				t.Errorf("warnings %q", res.Warnings)
			}
		})
	}
}

// TestRPMDatabaseUnreadable: an rpm database that does not read is a
// warning (TG202 cannot see its packages), not a silent pass.
func TestRPMDatabaseUnreadable(t *testing.T) {
	img := buildImage(t, defaultConfig(), cleanBase(),
		layer("RUN /bin/sh -c rpm --initdb # buildkit", registrytest.File("var/lib/rpm/rpmdb.sqlite", "SQLite format 3\x00"+strings.Repeat("\x00garbage", 200))))
	res := checkCached(t, img, Options{Secrets: secretScanner(t)})
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "TG202 does not see its packages") || !strings.Contains(res.Warnings[0], "/var/lib/rpm/rpmdb.sqlite in layer 2") {
		t.Errorf("warnings %q", res.Warnings)
	}
}
