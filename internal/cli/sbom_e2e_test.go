package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// runTollgate runs the CLI in-process, as main does.
func runTollgate(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

type cdxDoc struct {
	Metadata struct {
		Component struct {
			Type string `json:"type"`
			Name string `json:"name"`
			PURL string `json:"purl"`
		} `json:"component"`
	} `json:"metadata"`
	Components []struct {
		Type       string `json:"type"`
		PURL       string `json:"purl"`
		Properties []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"properties"`
	} `json:"components"`
}

// purlsWithLayers lists "purl layer-digest" for the library components.
func purlsWithLayers(t *testing.T, doc string) []string {
	t.Helper()
	var d cdxDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("output is not CycloneDX JSON: %v\n%s", err, doc)
	}
	var out []string
	for _, c := range d.Components {
		if c.Type != "library" {
			continue
		}
		layer := "-"
		for _, p := range c.Properties {
			if p.Name == "tollgate:layer:digest" {
				layer = p.Value
			}
		}
		out = append(out, c.PURL+" "+layer)
	}
	sort.Strings(out)
	return out
}

func layerDigests(t *testing.T, img v1.Image) []string {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		d, _ := l.Digest()
		out = append(out, d.String())
	}
	return out
}

// TestSBOMFromDistributionRegistry is the end-to-end test of `tollgate
// sbom` against a real registry: Debian's docker-registry, started here,
// with images pushed by the test.
func TestSBOMFromDistributionRegistry(t *testing.T) {
	reg := registrytest.StartDistribution(t)
	port := reg.Addr[strings.LastIndex(reg.Addr, ":")+1:]
	ref := "localhost:" + port + "/app:1.0"
	img := registrytest.DebianImage(t)
	registrytest.Push(t, ref, img)
	layers := layerDigests(t, img)
	cache := t.TempDir()

	stdout, stderr, code := runTollgate(t, "sbom", "--cache-dir", cache, ref)
	if code != 0 {
		t.Fatalf("tollgate sbom %s: exit %d\n%s", ref, code, stderr)
	}
	if stderr != "" {
		t.Errorf("unexpected stderr: %s", stderr)
	}
	got := purlsWithLayers(t, stdout)
	want := []string{
		"pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12 " + layers[0],
		"pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc " + layers[3],
		"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl " + layers[1],
		"pkg:maven/com.example/shop@2.1.0 " + layers[2],
		"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.0 " + layers[2],
		"pkg:maven/org.apache.commons/commons-text@1.9 " + layers[2],
		"pkg:npm/lodash@4.17.20 " + layers[3],
		"pkg:pypi/pyyaml@5.4.1 " + layers[2],
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("components:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var d cdxDoc
	json.Unmarshal([]byte(stdout), &d)
	if d.Metadata.Component.Type != "container" || !strings.HasPrefix(d.Metadata.Component.PURL, "pkg:oci/app@sha256:") ||
		!strings.Contains(d.Metadata.Component.PURL, "repository_url=localhost:"+port+"%2Fapp") {
		t.Errorf("image component %+v", d.Metadata.Component)
	}
	if entries, _ := filepath.Glob(filepath.Join(cache, "layers", "*.json")); len(entries) != len(layers) {
		t.Errorf("%d cache entries, want %d", len(entries), len(layers))
	}

	// SPDX to a file; the second run is answered from the cache.
	out := filepath.Join(t.TempDir(), "app.spdx.json")
	stdout, stderr, code = runTollgate(t, "sbom", "--cache-dir", cache, "-f", "spdx-json", "-o", out, ref)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(b, []byte(`"spdxVersion": "SPDX-2.3"`)) || !bytes.Contains(b, []byte("pkg:npm/lodash@4.17.20")) {
		t.Errorf("SPDX output: %v\n%.400s", err, b)
	}

	// A multi-platform image: --platform picks the manifest.
	idx := registrytest.Index(t, map[string]v1.Image{"linux/amd64": img, "linux/arm64": registrytest.AlpineImage(t)})
	multi := "localhost:" + port + "/multi:2"
	registrytest.PushIndex(t, multi, idx)
	stdout, stderr, code = runTollgate(t, "sbom", "--no-cache", "--platform", "linux/arm64", multi)
	if code != 0 || !strings.Contains(stdout, "pkg:apk/alpine/musl@1.2.4-r2") || strings.Contains(stdout, "pkg:deb/") {
		t.Errorf("--platform linux/arm64: exit %d, stderr %s\n%.300s", code, stderr, stdout)
	}

	// An image that does not exist is a clear error.
	_, stderr, code = runTollgate(t, "sbom", "--no-cache", "localhost:"+port+"/nope:1")
	if code != ExitUsage || !strings.Contains(stderr, "MANIFEST_UNKNOWN") {
		t.Errorf("missing image: exit %d, stderr %s", code, stderr)
	}
}
