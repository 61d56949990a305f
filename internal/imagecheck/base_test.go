package imagecheck

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

func debianBase(osID string, docs, apt bool) step {
	entries := []registrytest.Entry{
		registrytest.File("etc/os-release", "PRETTY_NAME=\"Test "+osID+"\"\nID="+osID+"\n"),
		registrytest.File("etc/passwd", "root:x:0:0:root:/root:/bin/bash\napp:x:10001:10001::/home/app:/usr/sbin/nologin\n"),
		registrytest.File("etc/group", "root:x:0:\napp:x:10001:\n"),
		registrytest.File("var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\nInstalled-Size: 400\n\nPackage: libc6\nStatus: install ok installed\nInstalled-Size: 12000\n\nPackage: old\nStatus: deinstall ok config-files\nInstalled-Size: 99999\n"),
		registrytest.File("usr/share/doc/libc6/copyright", "GPL\n"),
	}
	if docs {
		entries = append(entries, registrytest.File("usr/share/man/man1/ls.1.gz", "manpage"))
	}
	if apt {
		entries = append(entries, registrytest.Exec("usr/bin/apt-get", "\x7fELF\x00"))
	}
	return layer("/bin/sh -c #(nop) ADD file:9a3f1c in / ", entries...)
}

func TestFullBase(t *testing.T) {
	for _, tc := range []struct {
		name string
		base step
		want []got
	}{
		{"debian with documentation", debianBase("debian", true, true), []got{{IDFullBase, 0, "etc/os-release"}}},
		{"debian slim", debianBase("debian", false, true), nil},
		{"ubuntu", debianBase("ubuntu", false, true), []got{{IDFullBase, 0, "etc/os-release"}}},
		{"distroless-like: no package manager", debianBase("debian", true, false), nil},
		{"alpine", cleanBase(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := buildImage(t, defaultConfig(), tc.base)
			res, err := Check(t.Context(), img, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, reduce(img, res.Misconfigurations)); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, messages(res.Misconfigurations))
			}
			for _, f := range res.Misconfigurations {
				// base-files and libc6: 12 400 KiB; the removed package does not count.
				if f.Size != 12400*1024 || !strings.Contains(f.Message, "Test "+strings.Fields(tc.name)[0]) {
					t.Errorf("size %d, message %q", f.Size, f.Message)
				}
			}
		})
	}
}

// TestThresholds checks that the documented options move the limits.
func TestThresholds(t *testing.T) {
	steps := []step{cleanBase(),
		layer("RUN /bin/sh -c make # buildkit", registrytest.File("opt/a", big(3000)), registrytest.File("var/cache/apk/APKINDEX.tar.gz", big(100))),
		layer("RUN /bin/sh -c rm /opt/a # buildkit", registrytest.Whiteout("opt", "a")),
	}
	img := buildImage(t, defaultConfig(), steps...)
	for _, tc := range []struct {
		name string
		o    Options
		want []got
	}{
		{"defaults", Options{}, []got{{IDApkCache, 1, "var/cache/apk"}, {IDCacheInImage, 1, "var/cache/apk"}}},
		{"lower waste, higher cache thresholds", Options{MinWasteBytes: 2000, MinCacheBytes: 101}, []got{{IDWaste, 1, "opt/a"}}},
		{"skip", Options{Skip: []string{IDApkCache}}, []got{{IDCacheInImage, 1, "var/cache/apk"}}},
		{"limit", Options{MaxFindings: 1, Skip: []string{IDCacheInImage}}, []got{{IDApkCache, 1, "var/cache/apk"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Check(t.Context(), img, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, reduce(img, res.Misconfigurations)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
