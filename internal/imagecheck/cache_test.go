package imagecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// checkCached checks img without a cache, with a cold one and with the
// same one warm, and fails unless all three find the same; the warm
// checker must need no layer. It returns the result.
func checkCached(t *testing.T, img *image.Image, o Options) *Result {
	t.Helper()
	want, err := Check(t.Context(), img, o)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o.Cache = cache
	cold, err := Check(t.Context(), img, o)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, cold); diff != "" {
		t.Errorf("a cold cache changes the result (-none +cold):\n%s", diff)
	}
	c, err := NewChecker(img, o)
	if err != nil {
		t.Fatal(err)
	}
	if c.NeedsLayers() {
		t.Error("a warm cache still needs layers read")
	}
	warm, err := c.Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, warm); diff != "" {
		t.Errorf("a warm cache changes the result (-none +warm):\n%s", diff)
	}
	return want
}

func ruleIDs(fs []secret.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+" "+f.Path)
	}
	return out
}

func checkIDs(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

// TestCacheInvalidation: a warm cache never hides what a changed secret
// config or limit would find, and thresholds and skipped checks apply to
// cached facts anew. A stale cache entry would be a false negative.
func TestCacheInvalidation(t *testing.T) {
	img := buildImage(t, defaultConfig(), cleanBase(),
		layer("COPY . /app # buildkit",
			registrytest.File("app/settings.txt", "upstream key acme_"+"qwertyuiopasdfgh\n"),
			registrytest.File("app/data.bin", big(2<<20))),
		layer("RUN /bin/sh -c rm /app/data.bin # buildkit", registrytest.Whiteout("app", "data.bin")),
	)
	scanner := func(yaml string, maxSize int64) *secret.Scanner {
		t.Helper()
		var c *secret.Config
		if yaml != "" {
			var err error
			if c, err = secret.ParseConfig([]byte(yaml)); err != nil {
				t.Fatal(err)
			}
		}
		s, err := secret.New(secret.Options{Config: c, MaxFileSize: maxSize})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const acme = "rules:\n  - id: acme-key\n    title: Acme key\n    severity: HIGH\n    keywords: [acme_]\n    regex: (?P<secret>acme_[a-z]{16})\n"
	cache, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Each step runs on the cache the steps before it filled.
	for _, st := range []struct {
		name        string
		o           Options
		needsLayers bool
		secrets     []string
		checks      []string
	}{
		{name: "built-in rules, cold", o: Options{Secrets: scanner("", 0)}, needsLayers: true, checks: []string{IDWaste}},
		{name: "built-in rules, warm", o: Options{Secrets: scanner("", 0)}, checks: []string{IDWaste}},
		{name: "a secret config adds a rule", o: Options{Secrets: scanner(acme, 0)}, needsLayers: true,
			secrets: []string{"acme-key app/settings.txt"}, checks: []string{IDCredentials, IDWaste}},
		{name: "the same config, warm", o: Options{Secrets: scanner(acme, 0)},
			secrets: []string{"acme-key app/settings.txt"}, checks: []string{IDCredentials, IDWaste}},
		// The same rule set as the built-in one: its facts, warm.
		{name: "the config disables the rule again", o: Options{Secrets: scanner(acme+"disable-rules: [acme-key]\n", 0)},
			checks: []string{IDWaste}},
		{name: "the config disables a built-in rule", o: Options{Secrets: scanner(acme+"disable-rules: [private-key]\n", 0)}, needsLayers: true,
			secrets: []string{"acme-key app/settings.txt"}, checks: []string{IDCredentials, IDWaste}},
		{name: "a smaller size limit", o: Options{Secrets: scanner(acme, 16)}, needsLayers: true, checks: []string{IDWaste}},
		{name: "no secret scanning", o: Options{}, needsLayers: true, checks: []string{IDWaste}},
		{name: "a higher waste threshold, warm", o: Options{Secrets: scanner(acme, 0), MinWasteBytes: 4 << 20},
			secrets: []string{"acme-key app/settings.txt"}, checks: []string{IDCredentials}},
		{name: "a skipped check, warm", o: Options{Secrets: scanner(acme, 0), Skip: []string{IDCredentials}},
			secrets: []string{"acme-key app/settings.txt"}, checks: []string{IDWaste}},
	} {
		t.Run(st.name, func(t *testing.T) {
			o := st.o
			o.Cache = cache
			c, err := NewChecker(img, o)
			if err != nil {
				t.Fatal(err)
			}
			if c.NeedsLayers() != st.needsLayers {
				t.Errorf("NeedsLayers %v, want %v", c.NeedsLayers(), st.needsLayers)
			}
			res, err := Check(t.Context(), img, o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(st.secrets, ruleIDs(res.Secrets)); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(st.checks, checkIDs(res.Misconfigurations)); diff != "" {
				t.Errorf("checks (-want +got):\n%s\n%s", diff, messages(res.Misconfigurations))
			}
			assertNoSecret(t, res, "acme_"+"qwertyuiopasdfgh")
		})
	}
}

// TestCacheDamage: damaged, foreign or missing entries are misses; the
// layers they describe are read again and the result is the same.
func TestCacheDamage(t *testing.T) {
	img := buildImage(t, defaultConfig(), cleanBase(),
		layer("COPY id_ed25519 /root/.ssh/ # buildkit", registrytest.Entry{Name: "root/.ssh/id_ed25519", Body: testKey, Mode: 0o600}),
		layer("RUN /bin/sh -c rm /root/.ssh/id_ed25519 # buildkit", registrytest.Whiteout("root/.ssh", "id_ed25519")),
	)
	o := Options{Secrets: secretScanner(t)}
	want := checkCached(t, img, o)
	if len(want.Secrets) != 1 {
		t.Fatalf("secrets %+v", want.Secrets)
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, files []string)
	}{
		{"truncated", func(t *testing.T, files []string) {
			for _, f := range files {
				b, _ := os.ReadFile(f)
				os.WriteFile(f, b[:len(b)/2], 0o644)
			}
		}},
		{"edited body", func(t *testing.T, files []string) {
			for _, f := range files {
				b, _ := os.ReadFile(f)
				os.WriteFile(f, []byte(strings.Replace(string(b), "private-key", "privatekey!", 1)), 0o644)
			}
		}},
		{"the key's layer missing", func(t *testing.T, files []string) {
			for _, f := range files {
				if b, _ := os.ReadFile(f); strings.Contains(string(b), "private-key") {
					os.Remove(f)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cache, err := OpenCache(dir)
			if err != nil {
				t.Fatal(err)
			}
			o := o
			o.Cache = cache
			if _, err := Check(t.Context(), img, o); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "checks", "*"))
			if len(files) != len(img.Layers) {
				t.Fatalf("%d cache files for %d layers", len(files), len(img.Layers))
			}
			tc.damage(t, files)
			c, err := NewChecker(img, o)
			if err != nil {
				t.Fatal(err)
			}
			if !c.NeedsLayers() {
				t.Fatal("damaged entries were taken")
			}
			got, err := Check(t.Context(), img, o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCacheHoldsNoHashes: the cached facts of /etc/shadow say which
// passwords are empty, not the hashes.
func TestCacheHoldsNoHashes(t *testing.T) {
	const hash = "$6$tollgate$MadeUpHashForTestsOnly0000000000000000000000000000000000000000000000"
	img := buildImage(t, defaultConfig(), cleanBase(),
		layer("RUN /bin/sh -c chpasswd # buildkit", registrytest.Entry{Name: "etc/shadow", Body: "root:" + hash + ":19000:0:::::\napp::19000::::::\n", Mode: 0o640}))
	res := checkCached(t, img, Options{Secrets: secretScanner(t)})
	if diff := cmp.Diff([]got{{IDEmptyPassword, 1, "etc/shadow"}}, reduce(img, res.Misconfigurations)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	cache, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Secrets: secretScanner(t), Cache: cache}
	if _, err := Check(t.Context(), img, o); err != nil {
		t.Fatal(err)
	}
	shadows := 0
	for _, l := range img.Layers {
		lf := loadFacts(cache, factsKey(l.DiffID, &o))
		if lf == nil {
			t.Fatalf("layer %s not cached", l.Name())
		}
		for _, f := range lf.Entries {
			if f.Path == "etc/shadow" {
				shadows++
				if strings.Contains(string(f.Data), "MadeUpHash") {
					t.Errorf("layer %s: the cached shadow holds the hash: %q", l.Name(), f.Data)
				}
			}
		}
	}
	if shadows != 2 {
		t.Errorf("%d cached shadow files, want 2", shadows)
	}
}

// TestCacheKeepsWalkWarnings: what Check's walk warns about a layer's tar
// is said again when the layer's facts come from the cache.
func TestCacheKeepsWalkWarnings(t *testing.T) {
	img := buildImage(t, defaultConfig(), cleanBase(),
		layer("COPY . / # buildkit", registrytest.File("../escape", "x\n"), registrytest.File("app/main", "x\n")))
	res := checkCached(t, img, Options{Secrets: secretScanner(t)})
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "layer 2 (") || !strings.Contains(res.Warnings[0], "leaves the image root") {
		t.Errorf("warnings %q", res.Warnings)
	}
}
