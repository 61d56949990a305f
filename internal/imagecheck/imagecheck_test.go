package imagecheck

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// The made-up credentials of these tests (shaped like real ones, never
// issued).
const (
	testKeyBody = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
		"QyNTUxOQAAACBUb2xsZ2F0ZU1hZGVVcFRlc3RLZXlOZXZlclVzZWRBbnl3aGVyZQAAAJAT\n" +
		"b2xsZ2F0ZSB0ZXN0IGtleSwgbWFkZSB1cCBmb3IgdGhlIHRlc3RzIG9mIGlzc3VlIDEyLg\n"
	testToken = "ghp_T0llgateMadeUpTokenForTests000000042"
)

var testKey = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + testKeyBody + "-----END OPENSSH PRIVATE KEY-----\n"

func TestChecks(t *testing.T) {
	setuid := registrytest.Entry{Name: "usr/bin/helper", Body: "\x7fELF\x00", Mode: 0o4755}
	for _, tc := range []struct {
		name  string
		cfg   func(c *imageConfig)
		steps []step
		want  []got
	}{
		{name: "clean image"},
		{name: "root user", cfg: func(c *imageConfig) { c.user = "" }, want: []got{{IDRootUser, -1, ""}}},
		{name: "user 0:0", cfg: func(c *imageConfig) { c.user = "0:0" }, want: []got{{IDRootUser, -1, ""}}},
		{name: "user named toor with UID 0",
			cfg:   func(c *imageConfig) { c.user = "toor" },
			steps: []step{layer("RUN /bin/sh -c echo toor >> /etc/passwd # buildkit", registrytest.File("etc/passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n"))},
			want:  []got{{IDRootUser, -1, ""}, {IDDuplicateID, 1, "etc/passwd"}}},
		{name: "no healthcheck", cfg: func(c *imageConfig) { c.healthcheck = nil }, want: []got{{IDHealthcheck, -1, ""}}},
		{name: "healthcheck none", cfg: func(c *imageConfig) { c.healthcheck = []string{"NONE"} }, want: []got{{IDHealthcheck, -1, ""}}},
		{name: "apt-get update alone",
			steps: []step{layer("/bin/sh -c apt-get update", registrytest.File("var/log/apt/eipp.log.xz", "x"))},
			want:  []got{{IDUpdateAlone, 1, ""}}},
		{name: "setuid file",
			steps: []step{layer("COPY helper /usr/bin/ # buildkit", setuid)},
			want:  []got{{IDSetuid, 1, "usr/bin/helper"}}},
		{name: "ADD of a URL",
			steps: []step{layer("ADD https://example.com/app.bin /app/ # buildkit", registrytest.File("app/app.bin", "x"))},
			want:  []got{{IDAdd, 1, ""}}},
		{name: "ADD of an archive (classic builder shape)",
			steps: []step{layer("/bin/sh -c #(nop) ADD app.tar.gz in /app", registrytest.File("app/main", "x"))},
			want:  []got{{IDAdd, 1, ""}}},
		{name: "ADD of a URL with a checksum",
			steps: []step{layer("ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/app.bin /app/ # buildkit", registrytest.File("app/app.bin", "x"))}},
		{name: "ADD of a plain file is COPY",
			steps: []step{layer("ADD app.sh /app/ # buildkit", registrytest.File("app/app.sh", "echo"))}},
		{name: "credential in ENV", cfg: func(c *imageConfig) { c.env = []string{"GITHUB_TOKEN=" + testToken} },
			steps: []step{meta("ENV GITHUB_TOKEN=" + testToken + " # buildkit")},
			want:  []got{{IDCredentials, -1, ""}, {IDCredentials, -1, ""}}},
		{name: "credential in a file",
			steps: []step{layer("COPY .npmrc /root/ # buildkit", registrytest.File("root/.npmrc", "//registry.npmjs.org/:_authToken=npm_T0llgateMadeUpNpmTokenForTests000042\n"))},
			want:  []got{{IDCredentials, 1, "root/.npmrc"}}},
		{name: "sudo",
			steps: []step{layer("RUN /bin/sh -c sudo chown app /data # buildkit", registrytest.Dir("data/"))},
			want:  []got{{IDSudo, 1, ""}}},
		{name: "volume over /proc", cfg: func(c *imageConfig) { c.volumes = []string{"/proc/"} }, want: []got{{IDSensitiveVolume, -1, "proc"}}},
		{name: "dist-upgrade",
			steps: []step{layer("/bin/sh -c apt-get update && apt-get dist-upgrade -y && rm -rf /var/lib/apt/lists/*", registrytest.File("etc/x", "1"))},
			want:  []got{{IDDistUpgrade, 1, ""}}},
		{name: "apk cache in a layer",
			steps: []step{layer("RUN /bin/sh -c apk add curl # buildkit", registrytest.File("var/cache/apk/APKINDEX.66df3dd4.tar.gz", big(2000)))},
			want:  []got{{IDApkCache, 1, "var/cache/apk"}, {IDCacheInImage, 1, "var/cache/apk"}}},
		{name: "apt lists deleted in a later layer",
			steps: []step{
				layer("/bin/sh -c apt-get update && apt-get install -y curl", registrytest.File("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", big(5000)), registrytest.File("var/lib/apt/lists/lock", "")),
				layer("/bin/sh -c rm -rf /var/lib/apt/lists/*", registrytest.Whiteout("var/lib/apt/lists", "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4")),
			},
			want: []got{{IDAptCache, 1, "var/lib/apt/lists"}}},
		{name: "empty password",
			steps: []step{layer("RUN /bin/sh -c passwd -d app # buildkit", registrytest.File("etc/shadow", "root:*:19000:0:::::\napp::19000::::::\n"))},
			want:  []got{{IDEmptyPassword, 1, "etc/shadow"}}},
		{name: "duplicate GID",
			steps: []step{layer("RUN /bin/sh -c addgroup -g 10001 other # buildkit", registrytest.File("etc/group", "root:x:0:root\napp:x:10001:\nother:x:10001:\n"))},
			want:  []got{{IDDuplicateID, 1, "etc/group"}}},
		{name: "unneeded files",
			steps: []step{layer("COPY . /app # buildkit",
				registrytest.File("app/Dockerfile", "FROM x\n"),
				registrytest.File("app/.git/HEAD", "ref: refs/heads/main\n"),
				registrytest.File("app/.git/config", "[core]\n"),
				registrytest.File("app/node_modules/x/.git/HEAD", "ref\n"),
			)},
			want: []got{{IDUnneededFiles, 1, "app/.git"}, {IDUnneededFiles, 1, "app/Dockerfile"}}},
		{name: "pip cache in the final image",
			steps: []step{layer("RUN /bin/sh -c pip install flask # buildkit", registrytest.File("root/.cache/pip/http-v2/a/b/c", big(3000)))},
			want:  []got{{IDUnneededFiles, 1, "root/.cache"}, {IDCacheInImage, 1, "root/.cache/pip"}}},
		{name: "debug tool installed",
			steps: []step{layer("RUN /bin/sh -c apk add tcpdump # buildkit", registrytest.File("lib/apk/db/installed", "P:musl\nV:1.2.5-r0\n\nP:busybox\nV:1.36.1-r29\n\nP:tcpdump\nV:4.99.4-r1\n"))},
			want:  []got{{IDDebugTools, 1, "lib/apk/db/installed"}}},
		{name: "waste: a big file deleted later",
			steps: []step{
				layer("RUN /bin/sh -c curl -o /tmp/sdk.tgz https://example.com/sdk.tgz # buildkit", registrytest.File("opt/sdk.tgz", big(1<<20+10))),
				layer("RUN /bin/sh -c rm /opt/sdk.tgz # buildkit", registrytest.Whiteout("opt", "sdk.tgz")),
			},
			want: []got{{IDWaste, 1, "opt/sdk.tgz"}}},
		{name: "waste below the threshold",
			steps: []step{
				layer("RUN /bin/sh -c make # buildkit", registrytest.File("opt/small", big(1<<20-1))),
				layer("RUN /bin/sh -c rm /opt/small # buildkit", registrytest.Whiteout("opt", "small")),
			}},
		{name: "world-writable file",
			steps: []step{layer("RUN /bin/sh -c chmod 666 /etc/app.conf # buildkit", registrytest.Entry{Name: "etc/app.conf", Body: "a=1\n", Mode: 0o666}, registrytest.Entry{Name: "tmp/scratch", Body: "x", Mode: 0o666})},
			want:  []got{{IDWorldWritable, 1, "etc/app.conf"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			if tc.cfg != nil {
				tc.cfg(&c)
			}
			name := "check-" + strings.NewReplacer(" ", "-", ":", "", "(", "", ")", "").Replace(tc.name)
			res := checkImage(t, name, c, append([]step{cleanBase()}, tc.steps...), tc.want)
			for _, f := range res.Misconfigurations {
				if f.Message == "" || f.Title == "" || f.Resolution == "" || f.Severity == "" || f.Status != "FAIL" {
					t.Errorf("incomplete finding %+v", f)
				}
				if f.Layer != nil && f.Layer.DiffID != "" && f.Layer.CreatedBy == "" {
					t.Errorf("%s: layer without its history line: %+v", f.ID, f.Layer)
				}
			}
			assertNoSecret(t, res, testToken, "npm_T0llgateMadeUpNpmTokenForTests000042")
		})
	}
}

func messages(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s: %s\n", f.ID, f.Path, f.Message)
	}
	return b.String()
}

// assertNoSecret fails when a raw value shows in any output of the result.
func assertNoSecret(t *testing.T, res *Result, values ...string) {
	t.Helper()
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{string(js), fmt.Sprintf("%+v", res), messages(res.Misconfigurations)} {
		for _, v := range values {
			if strings.Contains(form, v) {
				t.Fatalf("output shows the value %q:\n%s", v, form)
			}
		}
	}
}

// TestLayeredPrivateKey is the layered case: a key added in layer 2 and
// deleted in layer 3 is reported with both layers; the same image without
// the key reports nothing.
func TestLayeredPrivateKey(t *testing.T) {
	steps := func(withKey bool) []step {
		var add []registrytest.Entry
		if withKey {
			add = append(add, registrytest.Entry{Name: "root/.ssh/id_ed25519", Body: testKey, Mode: 0o600})
		}
		add = append(add, registrytest.File("root/.ssh/known_hosts", "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDxx\n"))
		del := []registrytest.Entry{registrytest.File("app/main", "built\n")}
		if withKey {
			del = append(del, registrytest.Whiteout("root/.ssh", "id_ed25519"))
		}
		return []step{cleanBase(),
			layer("COPY id_ed25519 known_hosts /root/.ssh/ # buildkit", add...),
			layer("RUN /bin/sh -c git clone git@git.example.com:app /app && rm /root/.ssh/id_ed25519 # buildkit", del...),
		}
	}
	img := buildImage(t, defaultConfig(), steps(true)...)
	res, err := Check(t.Context(), img, Options{Secrets: secretScanner(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Secrets) != 1 {
		t.Fatalf("secrets: %+v", res.Secrets)
	}
	s := res.Secrets[0]
	if s.RuleID != "private-key" || s.Path != "root/.ssh/id_ed25519" || layerIndex(img, s.Layer) != 1 || layerIndex(img, s.DeletedIn) != 2 {
		t.Errorf("secret %+v", s)
	}
	if !strings.Contains(s.Layer.CreatedBy, "COPY id_ed25519") || !strings.Contains(s.DeletedIn.CreatedBy, "rm /root/.ssh/id_ed25519") {
		t.Errorf("layers without history lines: %+v %+v", s.Layer, s.DeletedIn)
	}
	want := []got{{IDCredentials, 1, "root/.ssh/id_ed25519"}}
	if diff := cmp.Diff(want, reduce(img, res.Misconfigurations)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if m := res.Misconfigurations[0]; layerIndex(img, m.DeletedIn) != 2 || !strings.Contains(m.Message, "still in layer 2") {
		t.Errorf("finding does not name both layers: %+v", m)
	}
	for _, line := range strings.Split(strings.TrimSpace(testKeyBody), "\n") {
		assertNoSecret(t, res, line)
	}

	clean := buildImage(t, defaultConfig(), steps(false)...)
	res, err = Check(t.Context(), clean, Options{Secrets: secretScanner(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Secrets) != 0 || len(res.Misconfigurations) != 0 {
		t.Errorf("image without the key: %+v", res)
	}
	if res.SecretStats.Files == 0 || res.SecretStats.SkippedBinary == 0 {
		t.Errorf("stats %+v", res.SecretStats)
	}
}

// TestChecker feeds the layers through the streaming API, as a scan that
// reads each layer once for several analyses would, and gets what Check
// finds.
func TestChecker(t *testing.T) {
	steps := []step{cleanBase(),
		layer("COPY id_ed25519 /root/.ssh/ # buildkit", registrytest.Entry{Name: "root/.ssh/id_ed25519", Body: testKey, Mode: 0o600}),
		layer("RUN /bin/sh -c rm /root/.ssh/id_ed25519 # buildkit", registrytest.Whiteout("root/.ssh", "id_ed25519")),
	}
	img := buildImage(t, defaultConfig(), steps...)
	o := Options{Secrets: secretScanner(t)}
	want, err := Check(t.Context(), img, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChecker(img, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range img.Layers {
		rc, err := l.Open()
		if err != nil {
			t.Fatal(err)
		}
		err = image.Walk(rc, func(e *image.Entry, r io.Reader) error { return c.Entry(i, e, r) }, nil)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Checker and Check differ (-Check +Checker):\n%s", diff)
	}
	if err := c.Entry(0, &image.Entry{Path: "x", Type: image.TypeFile}, strings.NewReader("")); err == nil {
		t.Error("an entry after Result was accepted")
	}
}

// TestImageSources checks the same image opened from a docker save tar,
// an OCI layout and a registry: the same findings, layers named by diff ID.
func TestImageSources(t *testing.T) {
	c := defaultConfig()
	c.user = ""
	steps := []step{cleanBase(),
		layer("COPY id_ed25519 /root/.ssh/ # buildkit", registrytest.Entry{Name: "root/.ssh/id_ed25519", Body: testKey, Mode: 0o600}),
		layer("RUN /bin/sh -c rm /root/.ssh/id_ed25519 # buildkit", registrytest.Whiteout("root/.ssh", "id_ed25519")),
	}
	want := []got{{IDRootUser, -1, ""}, {IDCredentials, 1, "root/.ssh/id_ed25519"}}
	v1img := buildV1(t, c, steps...)
	dir := t.TempDir()
	tarPath := dir + "/image.tar"
	registrytest.WriteDockerArchive(t, tarPath, "tollgate-test/sources:1", v1img)
	reg := registrytest.StartRegistry(t)
	registrytest.Push(t, reg.Host+"/tollgate-test/sources:1", v1img)
	for name, open := range map[string]func() (*image.Image, error){
		"docker save tar": func() (*image.Image, error) { return image.OpenArchive(tarPath, image.Options{}) },
		"registry": func() (*image.Image, error) {
			return image.OpenRemote(t.Context(), reg.Host+"/tollgate-test/sources:1", image.Options{InsecureSkipTLSVerify: true})
		},
	} {
		t.Run(name, func(t *testing.T) {
			img, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			res, err := Check(t.Context(), img, Options{Secrets: secretScanner(t)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, reduce(img, res.Misconfigurations)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(res.Secrets) != 1 || layerIndex(img, res.Secrets[0].DeletedIn) != 2 {
				t.Errorf("secrets %+v", res.Secrets)
			}
		})
	}
}
