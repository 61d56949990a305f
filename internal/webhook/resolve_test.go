package webhook

import (
	"context"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tollgate-dev/tollgate/internal/policy"
)

// pushRandom pushes a random image to ref and returns its digest.
func pushRandom(t *testing.T, ref string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestRegistryResolver(t *testing.T) {
	t.Parallel()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	ref := host + "/team/app:1.2"
	first := pushRandom(t, ref)

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &RegistryResolver{TTL: time.Minute, Now: func() time.Time { return now }}
	got, err := r.Digest(context.Background(), ref)
	if err != nil || got != first {
		t.Fatalf("Digest = %q, %v; want %q", got, err, first)
	}
	// The tag moves; within the TTL the cached digest is kept, after it
	// the new one is fetched.
	second := pushRandom(t, ref)
	if got, _ := r.Digest(context.Background(), ref); got != first {
		t.Errorf("within TTL: %q, want the cached %q", got, first)
	}
	now = now.Add(2 * time.Minute)
	if got, _ := r.Digest(context.Background(), ref); got != second {
		t.Errorf("after TTL: %q, want %q", got, second)
	}
	if _, err := r.Digest(context.Background(), host+"/team/app:missing"); err == nil {
		t.Error("a missing tag resolved")
	}
	// No tag is not "latest": nothing is resolved, even though latest exists.
	pushRandom(t, host+"/team/app:latest")
	if got, err := r.Digest(context.Background(), host+"/team/app"); err == nil || !strings.Contains(err.Error(), "has no tag") {
		t.Errorf("untagged image: %q, %v; want a no-tag error", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Digest(ctx, host+"/team/other:1"); err == nil {
		t.Error("a cancelled look-up succeeded")
	}
}

// TestMutatePinsFromRegistry runs /mutate with digest pinning against an
// in-process registry.
func TestMutatePinsFromRegistry(t *testing.T) {
	t.Parallel()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	digest := pushRandom(t, host+"/team/app:1.2")
	p := mustPolicy(t, "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  images:\n    allowedRegistries: {mode: enforce, registries: ['"+host+"']}\n  mutations:\n    pinDigests: {enabled: true}\n")
	h := testHandler(t, HandlerOptions{Policy: func() *policy.Policy { return p }, Resolver: &RegistryResolver{}})
	obj := `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"},"spec":{"containers":[` +
		`{"name":"a","image":"` + host + `/team/app:1.2"},{"name":"b","image":"` + host + `/team/app:9"},{"name":"c","image":"evil.io/app:1"}]}}`
	req := httptest.NewRequest(http.MethodPost, "/mutate", strings.NewReader(admissionReview("u-p", "CREATE", "Pod", "", obj)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	patch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/spec/containers/0/image","value":"` + host + `/team/app:1.2@` + digest + `"}]`))
	body := rec.Body.String()
	if !strings.Contains(body, `"patch":"`+patch+`"`) {
		t.Errorf("patch missing or wrong in %s", body)
	}
	// The missing tag becomes a warning; the registry that is not allowed
	// is never contacted.
	if !strings.Contains(body, `"warnings":["tollgate: `+host+`/team/app:9 not pinned: resolving`) || strings.Contains(body, "evil.io/app:1 not pinned") {
		t.Errorf("warnings wrong in %s", body)
	}
}
