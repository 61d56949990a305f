package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowProxy is a registry on loopback that answers like the one behind it
// but slowly where a scan spends its time: every GET of a layer blob waits
// Delay before it is passed on. Manifests (and so tag resolution) and the
// image configs they name go through at once.
type slowProxy struct {
	// Host is "127.0.0.1:PORT".
	Host  string
	delay atomic.Int64 // nanoseconds

	mu      sync.Mutex
	configs map[string]bool // config digests seen in manifests
	delayed atomic.Int64    // blob GETs held back so far
}

var blobPath = regexp.MustCompile(`^/v2/.+/blobs/(sha256:[0-9a-f]{64})$`)
var manifestPath = regexp.MustCompile(`^/v2/.+/manifests/[^/]+$`)

// startSlowProxy starts a reverse proxy to the registry at target
// ("127.0.0.1:PORT") that delays layer blob GETs by delay.
func startSlowProxy(t *testing.T, target string, delay time.Duration) *slowProxy {
	t.Helper()
	p := &slowProxy{configs: map[string]bool{}}
	p.delay.Store(int64(delay))
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.ModifyResponse = p.noteConfig
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := blobPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet && !p.isConfig(m[1]) {
			p.delayed.Add(1)
			select {
			case <-time.After(time.Duration(p.delay.Load())):
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.Host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// Delayed is how many layer blob GETs the proxy has held back.
func (p *slowProxy) Delayed() int64 { return p.delayed.Load() }

func (p *slowProxy) isConfig(digest string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.configs[digest]
}

// noteConfig records the config digest of each image manifest passing
// through, so that the config blob is not delayed like a layer.
func (p *slowProxy) noteConfig(resp *http.Response) error {
	if resp.Request.Method != http.MethodGet || resp.StatusCode != http.StatusOK || !manifestPath.MatchString(resp.Request.URL.Path) {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var m struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if json.Unmarshal(body, &m) == nil && m.Config.Digest != "" {
		p.mu.Lock()
		p.configs[m.Config.Digest] = true
		p.mu.Unlock()
	}
	return nil
}

// TestSlowProxy checks the proxy itself: manifests and configs at once,
// layers after the delay, the bytes unchanged.
func TestSlowProxy(t *testing.T) {
	reg := startDockerRegistry(t)
	const delay = 1500 * time.Millisecond
	p := startSlowProxy(t, reg, delay)
	img := debianImage(t, fixedSSL, "slowproxy")
	digest := pushTo(t, reg+"/slow/app:1", img)
	cfgDigest, _ := img.ConfigName()
	layers, _ := img.Layers()
	layerDigest, _ := layers[0].Digest()

	get := func(path string) ([]byte, time.Duration) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.Host+path, nil)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, b)
		}
		return b, time.Since(start)
	}
	manifest, took := get("/v2/slow/app/manifests/1")
	if took >= delay {
		t.Errorf("manifest took %v, want it passed on at once", took)
	}
	if !strings.Contains(string(manifest), cfgDigest.String()) {
		t.Fatalf("manifest through the proxy does not name the config %s:\n%s", cfgDigest, manifest)
	}
	if _, took := get("/v2/slow/app/blobs/" + cfgDigest.String()); took >= delay {
		t.Errorf("config blob took %v, want it passed on at once", took)
	}
	blob, took := get("/v2/slow/app/blobs/" + layerDigest.String())
	if took < delay {
		t.Errorf("layer blob took %v, want at least %v", took, delay)
	}
	want, _ := layers[0].Compressed()
	wantBytes, _ := io.ReadAll(want)
	if !bytes.Equal(blob, wantBytes) {
		t.Errorf("layer through the proxy differs (%d bytes, want %d)", len(blob), len(wantBytes))
	}
	if p.Delayed() != 1 {
		t.Errorf("delayed %d GETs, want 1 (the layer)", p.Delayed())
	}
	t.Logf("image %s: layer through the proxy in %v", digest, took)
}
