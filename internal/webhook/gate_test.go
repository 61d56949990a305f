package webhook

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

// factsScanner returns fixed facts per repository (a fake beside the real
// scans of internal/gate's tests and the e2e suite).
type factsScanner struct {
	facts map[string]*policy.ScanFacts // repository@… prefix → facts
	slow  time.Duration
	scans atomic.Int32
}

func (f *factsScanner) DataVersion() (string, error) { return "db-test", nil }

func (f *factsScanner) Scan(ctx context.Context, ref string, _ gate.Scanners) (*policy.ScanFacts, error) {
	f.scans.Add(1)
	if f.slow > 0 {
		select {
		case <-time.After(f.slow):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	for prefix, facts := range f.facts {
		if strings.HasPrefix(ref, prefix+"@") {
			return facts, nil
		}
	}
	return nil, errors.New("no such image")
}

type staticResolver string

func (r staticResolver) Digest(context.Context, string) (string, error) { return string(r), nil }

const gatePolicy = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata: {name: gate-test}
spec:
  vulnerabilities:
    maxSeverity: HIGH
    ignore:
    - {id: CVE-2024-0009, reason: accepted, expires: 2020-01-01}
  breakGlass: {enabled: true}
`

var vulnFacts = map[string]*policy.ScanFacts{
	"reg.io/vuln": {Vulnerabilities: []policy.VulnFact{
		{ID: "CVE-2024-0001", Package: "openssl", Installed: "3.0.1", Fixed: "3.0.2", Severity: "CRITICAL"},
	}},
	"reg.io/clean": {Vulnerabilities: []policy.VulnFact{
		{ID: "CVE-2024-0002", Package: "zlib", Installed: "1.2", Fixed: "1.3", Severity: "HIGH"},
	}},
	"reg.io/expired": {Vulnerabilities: []policy.VulnFact{
		{ID: "CVE-2024-0009", Package: "curl", Installed: "7", Fixed: "8", Severity: "CRITICAL"},
	}},
}

func TestGateResponses(t *testing.T) {
	t.Parallel()
	d := testDigest
	tests := []struct {
		name, policy, path, body, want string
		slow                           time.Duration
	}{
		{
			name: "image review denies a critical vulnerability", path: "/image_policy", body: imageReview("default", "", "reg.io/vuln:1"),
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,` +
				`"reason":"tollgate: image reg.io/vuln:1 (` + d + `): 1 vulnerability above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2)"}}`,
		},
		{
			name: "image review admits a clean image", path: "/image_policy", body: imageReview("default", "", "reg.io/clean:1"),
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true}}`,
		},
		{
			name: "an ignore entry past its expiry denies", path: "/image_policy", body: imageReview("default", "", "reg.io/expired:1"),
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,` +
				`"reason":"tollgate: image reg.io/expired:1 (` + d + `): 1 vulnerability above HIGH: CVE-2024-0009 CRITICAL in curl 7 (fixed in 8)"}}`,
		},
		{
			name: "break-glass admits, audited", path: "/image_policy",
			body: imageReview("default", `{"x.image-policy.k8s.io/break-glass":"true"}`, "reg.io/vuln:1"),
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true,"auditAnnotations":{` +
				`"break-glass":"true","vulnerabilities":"image reg.io/vuln:1 (` + d + `): 1 vulnerability above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2)"}}}`,
		},
		{
			name: "validate denies with the container's place", path: "/validate",
			body: admissionReview("u-1", "CREATE", "Deployment", "",
				`{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"app","image":"reg.io/vuln:1"}]}}}}`),
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-1","allowed":false,` +
				`"status":{"code":403,"reason":"Forbidden","message":"tollgate: container \"app\" (spec.template.spec.containers[0].image): image reg.io/vuln:1 (` + d + `): 1 vulnerability above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2)"}}}`,
		},
		{
			name: "first sight, onError deny", path: "/validate", slow: time.Second,
			body: admissionReview("u-2", "CREATE", "Pod", "", pod("reg.io/clean:1", "")),
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-2","allowed":false,` +
				`"status":{"code":403,"reason":"Forbidden","message":"tollgate: container \"web\" (spec.containers[0].image): image reg.io/clean:1 (` + d + `): vulnerability scan not finished within 50ms (a new digest); it goes on in the background, retry shortly"}}}`,
		},
		{
			name: "first sight, onError allow: a warning", path: "/validate", slow: time.Second,
			policy: strings.Replace(gatePolicy, "maxSeverity: HIGH", "maxSeverity: HIGH\n    onError: allow", 1),
			body:   admissionReview("u-3", "CREATE", "Pod", "", pod("reg.io/clean:1", "")),
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-3","allowed":true,` +
				`"warnings":["vulnerabilities: container \"web\" (spec.containers[0].image): image reg.io/clean:1 (` + d[:19] + `…): not checked (onError: allow): vulnerability scan not finished within 50ms (a new digest); it goes on in the background, retry shortly"]}}`,
		},
		{
			name: "first sight, onError allow on the image review: audit annotation", path: "/image_policy", slow: time.Second,
			policy: strings.Replace(gatePolicy, "maxSeverity: HIGH", "maxSeverity: HIGH\n    onError: allow", 1),
			body:   imageReview("default", "", "reg.io/clean:1"),
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true,"auditAnnotations":{` +
				`"vulnerabilities":"image reg.io/clean:1 (` + d + `): not checked (onError: allow): vulnerability scan not finished within 50ms (a new digest); it goes on in the background, retry shortly"}}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := gatePolicy
			if tc.policy != "" {
				doc = tc.policy
			}
			p := mustPolicy(t, doc)
			budget := time.Minute
			if tc.slow > 0 {
				budget = 50 * time.Millisecond
			}
			g := gate.New(gate.Options{Resolver: staticResolver(d), Scanner: &factsScanner{facts: vulnFacts, slow: tc.slow}, Budget: budget})
			h := testHandler(t, HandlerOptions{Policy: func() *policy.Policy { return p }, Gate: g})
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || rec.Body.String() != tc.want {
				t.Errorf("code %d\n got %s\nwant %s", rec.Code, rec.Body.String(), tc.want)
			}
		})
	}
}

// TestMutatePinsSignedImages: /mutate pins an image a signature rule
// covers even with pinDigests off, with the resolver /validate then
// reuses.
func TestMutatePinsSignedImages(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  signatures:
    rules:
    - images: [reg.io/signed/*]
      keys: [{publicKey: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"}]
`)
	h := testHandler(t, HandlerOptions{Policy: func() *policy.Policy { return p }, Resolver: staticResolver(testDigest)})
	body := admissionReview("u-9", "CREATE", "Pod", "",
		`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"},"spec":{"containers":[{"name":"a","image":"reg.io/signed/app:1"},{"name":"b","image":"reg.io/other:1"}]}}`)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/mutate", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	patch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/spec/containers/0/image","value":"reg.io/signed/app:1@` + testDigest + `"}]`))
	want := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-9","allowed":true,"patch":"` + patch +
		`","patchType":"JSONPatch","auditAnnotations":{"mutations":"image reg.io/signed/app:1 pinned to ` + testDigest + `"}}}`
	if rec.Body.String() != want {
		t.Errorf("\n got %s\nwant %s", rec.Body.String(), want)
	}
}
