package imagecheck

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

var dockleImages = flag.String("dockle-images", "", "also write each dockle comparison image as a docker-archive tar into this directory (to run dockle on them; see docs/image-checks.md)")

// dockleCases are the images where dockle v0.4.15 and tollgate disagree,
// one per dockle bug tollgate fixes. dockle is the result of running
// `dockle --input NAME.tar -f json` on the tar this test writes with
// -dockle-images (recorded in docs/image-checks.md, not checked here:
// dockle is never a dependency or a CI step).
var dockleCases = []struct {
	name   string
	cfg    func(c *imageConfig)
	base   bool // start from cleanBase
	steps  []step
	want   []got
	dockle string
}{
	{name: "user-0", base: true, cfg: func(c *imageConfig) { c.user = "0:0" },
		want: []got{{IDRootUser, -1, ""}}, dockle: "nothing: only \"\" and \"root\" count as root"},
	{name: "healthcheck-none", base: true, cfg: func(c *imageConfig) { c.healthcheck = []string{"NONE"} },
		want: []got{{IDHealthcheck, -1, ""}}, dockle: "nothing: a HEALTHCHECK NONE is a health check"},
	{name: "echo-apt-update", base: true,
		steps:  []step{layer("/bin/sh -c echo run apt-get update first > /etc/motd", registrytest.File("etc/motd", "run apt-get update first\n"))},
		dockle: "CIS-DI-0007 and DKL-DI-0005: the words in an echo count"},
	{name: "echo-sudo", base: true,
		steps:  []step{layer("/bin/sh -c echo never use sudo here > /etc/motd", registrytest.File("etc/motd", "never use sudo here\n"))},
		dockle: "DKL-DI-0001: the word in an echo counts"},
	{name: "scratch-add-url", cfg: func(c *imageConfig) { c.user = "10001" },
		steps: []step{layer("ADD https://example.com/app.tar.gz /app/ # buildkit", registrytest.File("app/app", "\x7fELF\x00"))},
		want:  []got{{IDAdd, 0, ""}}, dockle: "nothing: the only ADD has the smallest history index and is dropped as the base image's"},
	{name: "scratch-add-rootfs-url", cfg: func(c *imageConfig) { c.user = "10001" },
		steps: []step{layer("ADD https://example.com/rootfs.tar.gz / # buildkit", registrytest.File("bin/app", "\x7fELF\x00"))},
		want:  []got{{IDAdd, 0, ""}}, dockle: "nothing: the first ADD is taken to be the base image's root filesystem, even when it downloads"},
	{name: "env-access-log", base: true, cfg: func(c *imageConfig) {
		c.env = []string{"ACCESS_LOG=/var/log/app/access.log", "KEYRING_DIR=/etc/app/keys"}
	},
		steps:  []step{meta("ENV ACCESS_LOG=/var/log/app/access.log KEYRING_DIR=/etc/app/keys # buildkit")},
		dockle: "CIS-DI-0010 for ACCESS_LOG: a name containing ACCESS counts as a credential"},
	{name: "config-env-no-history", base: true, cfg: func(c *imageConfig) { c.env = []string{"DB_PASSWORD=Tollgate-Made-Up-Pw42"} },
		want: []got{{IDCredentials, -1, ""}}, dockle: "nothing: it reads the history, and this image's history has no ENV line (crane mutate, ko, some buildah commits)"},
	{name: "token-in-config-file", base: true,
		steps: []step{layer("COPY config.yaml /app/ # buildkit", registrytest.File("app/config.yaml", "github:\n  token: "+testToken+"\n"))},
		want:  []got{{IDCredentials, 1, "app/config.yaml"}}, dockle: "nothing: it judges files by name only"},
	{name: "dotenv-without-secret", base: true,
		steps:  []step{layer("COPY .env /app/ # buildkit", registrytest.File("app/.env", "DEBUG=0\nLOG_LEVEL=info\n"))},
		dockle: "CIS-DI-0010: any file named .env"},
	{name: "key-deleted-later", base: true,
		steps: []step{
			layer("COPY id_rsa /root/.ssh/ # buildkit", registrytest.Entry{Name: "root/.ssh/id_rsa", Body: testKey, Mode: 0o600}),
			layer("RUN /bin/sh -c rm /root/.ssh/id_rsa # buildkit", registrytest.Whiteout("root/.ssh", "id_rsa")),
		},
		want: []got{{IDCredentials, 1, "root/.ssh/id_rsa"}}, dockle: "nothing: it looks at the filesystem after whiteouts, where the key is gone (it is still in layer 2)"},
	{name: "apt-lists-from-script", base: true,
		steps: []step{layer("/bin/sh -c ./setup.sh", registrytest.File("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", big(4000)))},
		want:  []got{{IDAptCache, 1, "var/lib/apt/lists"}, {IDCacheInImage, 1, "var/lib/apt/lists"}}, dockle: "nothing: it guesses from the RUN text, which does not name apt-get"},
	{name: "malformed-passwd", base: true,
		steps: []step{layer("COPY passwd /etc/ # buildkit", registrytest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nbroken line without fields\napp:x:10001:10001::/home/app:/bin/sh\nother:x:10001:10001::/:/bin/sh\n"))},
		want:  []got{{IDDuplicateID, 1, "etc/passwd"}}, dockle: "panic: index out of range (exit 2), no report"},
	{name: "volume-proc-sys", base: true, cfg: func(c *imageConfig) { c.volumes = []string{"/proc/sys"} },
		want: []got{{IDSensitiveVolume, -1, "proc/sys"}}, dockle: "nothing: only the exact strings /proc, /sys, /dev count"},
}

// checkImage builds the image, checks it with secret scanning on and
// compares the findings with want. With -dockle-images it also writes the
// image there as NAME.tar, a docker-archive dockle can read.
func checkImage(t *testing.T, name string, c imageConfig, steps []step, want []got) *Result {
	t.Helper()
	if *dockleImages != "" {
		registrytest.WriteDockerArchive(t, filepath.Join(*dockleImages, name+".tar"), "tollgate-test/"+name+":1", buildV1(t, c, steps...))
	}
	img := buildImage(t, c, steps...)
	res := checkCached(t, img, Options{Secrets: secretScanner(t)})
	if diff := cmp.Diff(want, reduce(img, res.Misconfigurations)); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%s", diff, messages(res.Misconfigurations))
	}
	return res
}

// TestDockleDifferences runs each case where tollgate fixes a dockle bug.
func TestDockleDifferences(t *testing.T) {
	for _, tc := range dockleCases {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			if tc.cfg != nil {
				tc.cfg(&c)
			}
			var steps []step
			if tc.base {
				steps = append(steps, cleanBase())
			}
			checkImage(t, tc.name, c, append(steps, tc.steps...), tc.want)
		})
	}
}
