package cli

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan/scantest"
)

var updateChecks = flag.Bool("update-checks", false, "rewrite testdata/scan_checks.json.golden")

// Made-up credentials, shaped like real ones: nothing here was ever a key.
var (
	checksKeyBody = base64.StdEncoding.EncodeToString([]byte("openssh-key-v1 tollgate cli test key: made up for the layered secret case, never used by anyone anywhere"))
	checksKey     = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + checksKeyBody + "\n-----END OPENSSH PRIVATE KEY-----\n"
	checksToken   = "ghp_" + "TgCliMadeUpTokenForTestsOnly0000000077"
)

// checksImage is a small Debian-like image; withKey adds an SSH private
// key and a setuid binary in layer 2 and deletes the key in layer 3.
func checksImage(t *testing.T, withKey bool) v1.Image {
	t.Helper()
	base := registrytest.Layer(t,
		registrytest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
		registrytest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
		registrytest.File("etc/group", "root:x:0:\napp:x:1000:\n"),
	)
	second := []registrytest.Entry{registrytest.File("app/README", "hello\n")}
	if withKey {
		second = append(second, registrytest.File("root/.ssh/id_ed25519", checksKey),
			registrytest.Entry{Name: "usr/bin/helper", Body: "\x7fELF\x00", Mode: 0o4755})
	}
	third := []registrytest.Entry{registrytest.File("app/VERSION", "1\n")}
	if withKey {
		third = append(third, registrytest.Whiteout("root/.ssh", "id_ed25519"))
	}
	img := registrytest.Image(t, base, registrytest.Layer(t, second...), registrytest.Layer(t, third...))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.User = "app"
	cf.Config.Healthcheck = &v1.HealthConfig{Test: []string{"CMD", "true"}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func decodeReport(t *testing.T, doc string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, doc)
	}
	return r
}

// TestScanSecretMisconfigImage runs tollgate image -i TAR --scanners
// secret,misconfig with no advisory DB: the key added in layer 2 and
// deleted in layer 3 is reported with both layers, the same image without
// it gives nothing, and no output format shows the key.
func TestScanSecretMisconfigImage(t *testing.T) {
	dir := t.TempDir()
	withKey, without := filepath.Join(dir, "key.tar"), filepath.Join(dir, "clean.tar")
	img := checksImage(t, true)
	registrytest.WriteDockerArchive(t, withKey, "app:1", img)
	registrytest.WriteDockerArchive(t, without, "app:1", checksImage(t, false))
	// An empty cache directory: the scan must not need the advisory DB.
	base := []string{"image", "--cache-dir", filepath.Join(dir, "cache"), "-q", "--scanners", "secret,misconfig"}

	stdout, stderr, code := runTollgate(t, append(base, "-f", "json", "-i", withKey)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r := decodeReport(t, stdout)
	diffIDs, _ := img.ConfigFile()
	var secrets []report.Secret
	for _, res := range r.Results {
		if res.Class == report.ClassOSPkgs || res.Class == report.ClassLangPkgs {
			t.Errorf("package result %s in a scan without vuln", res.Target)
		}
		for _, s := range res.Secrets {
			if res.Class != report.ClassSecret || res.Target != s.Path {
				t.Errorf("secret %s in result %s (%s)", s.Path, res.Target, res.Class)
			}
			secrets = append(secrets, s)
		}
	}
	if len(secrets) != 1 {
		t.Fatalf("want the one key, got %d secrets: %+v", len(secrets), secrets)
	}
	s := secrets[0]
	if s.Path != "root/.ssh/id_ed25519" || s.RuleID != "private-key" {
		t.Errorf("secret %s %s, want root/.ssh/id_ed25519 private-key", s.Path, s.RuleID)
	}
	if s.Layer == nil || s.Layer.DiffID != diffIDs.RootFS.DiffIDs[1].String() {
		t.Errorf("secret layer %+v, want layer 2 %s", s.Layer, diffIDs.RootFS.DiffIDs[1])
	}
	if s.DeletedIn == nil || s.DeletedIn.DiffID != diffIDs.RootFS.DiffIDs[2].String() {
		t.Errorf("secret deleted in %+v, want layer 3 %s", s.DeletedIn, diffIDs.RootFS.DiffIDs[2])
	}
	var misconf []string
	for _, res := range r.Results {
		for _, m := range res.Misconfigurations {
			layer := ""
			if m.Layer != nil {
				layer = m.Layer.CreatedBy
			}
			misconf = append(misconf, m.ID+" "+m.Path+" "+layer)
		}
	}
	if diff := cmp.Diff([]string{"CIS-DI-0008 usr/bin/helper layer 2"}, misconf); diff != "" {
		t.Errorf("misconfigurations (-want +got):\n%s", diff)
	}
	checkGolden(t, r)

	for _, format := range report.ScanFormatNames() {
		args := append(base, "-f", format, "-i", withKey)
		if format == "template" {
			args = append(args, "--template", "{{ range . }}{{ range .Secrets }}{{ .Match }} {{ .Code }}{{ end }}{{ end }}")
		}
		out, stderr, code := runTollgate(t, args...)
		if code != 0 {
			t.Errorf("-f %s: exit %d\n%s", format, code, stderr)
			continue
		}
		for _, line := range strings.Split(checksKeyBody, "\n") {
			if strings.Contains(out, line[:20]) {
				t.Errorf("-f %s shows the key", format)
			}
		}
	}

	stdout, stderr, code = runTollgate(t, append(base, "-f", "json", "--exit-code", "4", "-i", without)...)
	if code != 0 {
		t.Fatalf("clean image: exit %d\n%s", code, stderr)
	}
	for _, res := range decodeReport(t, stdout).Results {
		if len(res.Secrets) > 0 || len(res.Misconfigurations) > 0 {
			t.Errorf("clean image: %s has %d secrets, %d misconfigurations: %+v", res.Target, len(res.Secrets), len(res.Misconfigurations), res.Misconfigurations)
		}
	}
	if _, _, code := runTollgate(t, append(base, "--exit-code", "4", "-i", withKey)...); code != 4 {
		t.Errorf("--exit-code 4 with a secret: exit %d", code)
	}
	// Trivy's --image-config-scanners adds its scanners.
	stdout, stderr, code = runTollgate(t, "image", "--cache-dir", filepath.Join(dir, "cache"), "-q", "-f", "json", "--scanners", "secret", "--image-config-scanners", "misconfig", "-i", withKey)
	ic := decodeReport(t, stdout)
	if n := ic.MisconfigurationCount(); code != 0 || n != 1 {
		t.Errorf("--image-config-scanners misconfig: exit %d, %d misconfigurations, want 1\n%s", code, n, stderr)
	}
	table, _, _ := runTollgate(t, append(base, "-i", withKey)...)
	if os.Getenv("TOLLGATE_SHOW_TABLE") != "" {
		t.Log(table)
	}
	for _, want := range []string{"Secrets", "Misconfigurations", "root/.ssh/id_ed25519 (secrets)", "CRITICAL: AsymmetricPrivateKey", "deleted by 'layer 3'"} {
		if !strings.Contains(table, want) {
			t.Errorf("table does not show %q:\n%s", want, table)
		}
	}
}

// checkGolden compares the report, without its time and temporary
// paths, with testdata/scan_checks.json.golden.
func checkGolden(t *testing.T, r report.Report) {
	t.Helper()
	r.CreatedAt = registrytest.Epoch()
	r.ArtifactName = "key.tar"
	for i := range r.Results {
		if r.Results[i].Class == report.ClassConfig {
			r.Results[i].Target = "key.tar"
		}
	}
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "scan_checks.json.golden")
	if *updateChecks {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-checks)", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
		t.Errorf("JSON report (-golden +got):\n%s", diff)
	}
}

// TestScanSecretDefaultScanners: an image scan without --scanners runs
// vuln and secret, as Trivy does, from the one read of the layers.
func TestScanSecretDefaultScanners(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	matchtest.Write(t, filepath.Join(cache, "db"), matchtest.FixtureDir())
	img, err := mutate.AppendLayers(scantest.BullseyeImage(t, nil), registrytest.Layer(t, registrytest.File("app/.npmrc", "//npm.example.com/:_authToken="+checksToken+"\n")))
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "app.tar")
	registrytest.WriteDockerArchive(t, tarPath, "app:1", img)
	// Cold, then warm: cached layers are read again for the secrets.
	for _, run := range []string{"cold", "warm"} {
		stdout, stderr, code := runTollgate(t, "image", "--cache-dir", cache, "--skip-db-update", "-q", "-f", "json", "-i", tarPath)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", run, code, stderr)
		}
		if diff := cmp.Diff(bullseyeRows, scanRows(t, stdout)); diff != "" {
			t.Errorf("%s: vulnerabilities (-want +got):\n%s", run, diff)
		}
		r := decodeReport(t, stdout)
		if n := r.SecretCount(); n != 1 {
			t.Errorf("%s: %d secrets, want the npm token", run, n)
		}
		if n := r.MisconfigurationCount(); n != 0 {
			t.Errorf("%s: %d misconfigurations without --scanners misconfig", run, n)
		}
		if strings.Contains(stdout, checksToken) {
			t.Errorf("%s: the report shows the token", run)
		}
	}
}

// TestScanSecretFS plants a made-up token in a source tree.
func TestScanSecretFS(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(tree, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "deploy", "ci.env"), []byte("NAME=app\nGITHUB_TOKEN="+checksToken+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"fs", "--cache-dir", filepath.Join(dir, "cache"), "-q", "--scanners", "secret"}
	stdout, stderr, code := runTollgate(t, append(base, "-f", "json", "--exit-code", "3", tree)...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	r := decodeReport(t, stdout)
	if len(r.Results) != 1 || r.Results[0].Target != "deploy/ci.env" || len(r.Results[0].Secrets) != 1 || r.Results[0].Secrets[0].StartLine != 2 {
		t.Errorf("want one secret at deploy/ci.env:2, got %+v", r.Results)
	}
	if strings.Contains(stdout, checksToken) {
		t.Error("the report shows the token")
	}
	// A secret config that drops the rule.
	cfg := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(cfg, []byte("disable-rules:\n  - "+r.Results[0].Secrets[0].RuleID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runTollgate(t, append(base, "--exit-code", "3", "--secret-config", cfg, tree)...); code != 0 {
		t.Errorf("with the rule disabled: exit %d\n%s", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--scanners", "misconfig"}, "the checks are for images"},
		{[]string{"--scanners", "license"}, "tollgate has vuln, secret and misconfig"},
		{[]string{"--secret-config", filepath.Join(dir, "nope.yaml")}, "--secret-config"},
		{[]string{"--secret-max-size", "lots"}, "want a size in bytes"},
	} {
		_, stderr, code := runTollgate(t, append(append(base, tt.args...), tree)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
