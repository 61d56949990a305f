package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/tollgate-dev/tollgate/internal/kube"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

const testDigest = "sha256:0b1f5a4d44a3b1e6c1b2e4e4b0b6c7a61d3a6c3f8d6e5e4a1f3b0c9d8e7f6a5b"

const testPolicy = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata: {name: handler-test}
spec:
  images:
    requireDigest: {mode: audit}
    allowedRegistries: {mode: warn, registries: [docker.io, reg.io]}
  workloads:
    kubesecCritical: {mode: enforce}
  mutations:
    labels: {tollgate.dev/admitted: "true"}
    securityContext: {runAsNonRoot: true}
`

func mustPolicy(t testing.TB, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// privilegedScorer reports a kubesec critical finding for privileged
// containers — just enough of kubesec to test how /validate uses a score.
// The real scorer is exercised in the package's kubesec tests and e2e.
type privilegedScorer struct{}

func (privilegedScorer) Score(obj []byte) (policy.Score, error) {
	if bytes.Contains(obj, []byte(`"privileged":true`)) {
		return policy.Score{Valid: true, Score: -30, Critical: []policy.ScoreItem{{ID: "Privileged", Selector: "containers[] .securityContext .privileged == true", Reason: "privileged", Points: -30}}}, nil
	}
	return policy.Score{Valid: true}, nil
}

type panicScorer struct{}

func (panicScorer) Score([]byte) (policy.Score, error) { panic("scorer exploded") }

type errScorer struct{}

func (errScorer) Score([]byte) (policy.Score, error) {
	return policy.Score{}, errors.New("scorer broke")
}

func testHandler(t testing.TB, o HandlerOptions) http.Handler {
	t.Helper()
	if o.Policy == nil {
		p := mustPolicy(t, testPolicy)
		o.Policy = func() *policy.Policy { return p }
	}
	if o.Scorer == nil {
		o.Scorer = privilegedScorer{}
	}
	return newHandler(o).mux()
}

func imageReview(ns string, annotations string, images ...string) string {
	var cs []string
	for _, i := range images {
		cs = append(cs, `{"image":"`+i+`"}`)
	}
	a := ""
	if annotations != "" {
		a = `"annotations":` + annotations + `,`
	}
	// The shape the apiserver sends (kube-e2e.md, "wire format").
	return `{"kind":"ImageReview","apiVersion":"imagepolicy.k8s.io/v1alpha1","metadata":{},"spec":{"containers":[` +
		strings.Join(cs, ",") + `],` + a + `"namespace":"` + ns + `"},"status":{"allowed":false}}`
}

func admissionReview(uid, op, kind, sub, object string) string {
	group, version, resource := "", "v1", "pods"
	if kind == "Deployment" {
		group, resource = "apps", "deployments"
	}
	return `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"` + uid + `",` +
		`"kind":{"group":"` + group + `","version":"` + version + `","kind":"` + kind + `"},` +
		`"resource":{"group":"` + group + `","version":"` + version + `","resource":"` + resource + `"},` +
		`"subResource":"` + sub + `","requestKind":{"group":"` + group + `","version":"` + version + `","kind":"` + kind + `"},` +
		`"name":"web","namespace":"default","operation":"` + op + `",` +
		`"userInfo":{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]},` +
		`"object":` + object + `,"oldObject":null,"dryRun":false,` +
		`"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-run"}}}`
}

func pod(image string, extra string) string {
	return `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","creationTimestamp":null},` +
		`"spec":{"containers":[{"name":"web","image":"` + image + `","resources":{}` + extra + `}],` +
		`"restartPolicy":"Always","dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","securityContext":{}},"status":{}}`
}

func TestHandlerResponses(t *testing.T) {
	t.Parallel()
	mutatePatch := base64.StdEncoding.EncodeToString([]byte(
		`[{"op":"add","path":"/metadata/labels","value":{"tollgate.dev/admitted":"true"}},{"op":"add","path":"/spec/securityContext/runAsNonRoot","value":true}]`))
	big := `{"kind":"ImageReview","apiVersion":"imagepolicy.k8s.io/v1alpha1","spec":{"containers":[{"image":"` + strings.Repeat("a", 8<<20) + `"}]}}`
	tests := []struct {
		name        string
		opts        HandlerOptions
		path        string
		contentType string
		body        string
		wantCode    int
		want        string
	}{
		{
			name: "image review allow", path: "/image_policy", body: imageReview("default", "", "nginx:1.16@"+testDigest),
			wantCode: 200, want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true}}`,
		},
		{
			name: "image review deny with reason", path: "/image_policy", body: imageReview("default", "", "nginx@"+testDigest, "redis:latest", "busybox"),
			wantCode: 200,
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,` +
				`"reason":"tollgate: image \"redis:latest\" uses tag latest; image \"busybox\" has no tag",` +
				`"auditAnnotations":{"requireDigest":"image \"redis:latest\" is not pinned by digest; image \"busybox\" is not pinned by digest"}}}`,
		},
		{
			name: "image review warn and audit become audit annotations", path: "/image_policy", body: imageReview("default", "", "quay.io/app:1"),
			wantCode: 200,
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true,"auditAnnotations":{` +
				`"allowedRegistries":"image \"quay.io/app:1\" is from registry quay.io, which is not allowed (allowed: index.docker.io, reg.io)",` +
				`"requireDigest":"image \"quay.io/app:1\" is not pinned by digest"}}}`,
		},
		{
			name: "image review break glass", path: "/image_policy",
			body:     imageReview("default", `{"mycluster.image-policy.k8s.io/break-glass":"true"}`, "nginx@"+testDigest, "nginx:latest@"+testDigest, "nginx"),
			wantCode: 200,
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true,"auditAnnotations":{` +
				`"break-glass":"true","requireDigest":"image \"nginx\" is not pinned by digest","requireTag":"image \"nginx\" has no tag"}}}`,
		},
		{
			name: "validate allow", path: "/validate", body: admissionReview("u-1", "CREATE", "Pod", "", pod("nginx:1.16@"+testDigest, "")),
			wantCode: 200, want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-1","allowed":true}}`,
		},
		{
			name: "validate deny with reason", path: "/validate",
			body:     admissionReview("u-2", "CREATE", "Pod", "", pod("nginx:1.16@"+testDigest, `,"securityContext":{"privileged":true}`)),
			wantCode: 200,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-2","allowed":false,` +
				`"status":{"code":403,"reason":"Forbidden","message":"tollgate: kubesec Privileged (containers[] .securityContext .privileged == true): privileged"}}}`,
		},
		{
			name: "validate deployment deny names the field", path: "/validate",
			body: admissionReview("u-3", "CREATE", "Deployment", "",
				`{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web2"},"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}}}`),
			wantCode: 200,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-3","allowed":false,` +
				`"status":{"code":403,"reason":"Forbidden","message":"tollgate: container \"nginx\" (spec.template.spec.containers[0].image): image \"nginx\" has no tag"},` +
				`"auditAnnotations":{"requireDigest":"container \"nginx\" (spec.template.spec.containers[0].image): image \"nginx\" is not pinned by digest"}}}`,
		},
		{
			name: "validate warn", path: "/validate", body: admissionReview("u-4", "CREATE", "Pod", "", pod("quay.io/app:1@"+testDigest, "")),
			wantCode: 200,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-4","allowed":true,` +
				`"warnings":["allowedRegistries: container \"web\" (spec.containers[0].image): image \"quay.io/app:1@` + testDigest + `\" is from registry quay.io, which is not allowed (allowed: index.docker.io, reg.io)"]}}`,
		},
		{
			name: "validate audit", path: "/validate", body: admissionReview("u-5", "UPDATE", "Pod", "", pod("nginx:1.16", "")),
			wantCode: 200,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-5","allowed":true,` +
				`"auditAnnotations":{"requireDigest":"container \"web\" (spec.containers[0].image): image \"nginx:1.16\" is not pinned by digest"}}}`,
		},
		{
			name: "validate ephemeral containers", path: "/validate",
			body: admissionReview("u-6", "UPDATE", "Pod", "ephemeralcontainers",
				`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"},"spec":{"containers":[{"name":"web","image":"nginx:1.16@`+testDigest+`"}],"ephemeralContainers":[{"name":"debug","image":"busybox:latest@`+testDigest+`"},{"name":"d2","image":"busybox"}]}}`),
			wantCode: 200,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-6","allowed":false,` +
				`"status":{"code":403,"reason":"Forbidden","message":"tollgate: ephemeral container \"d2\" (spec.ephemeralContainers[1].image): image \"busybox\" has no tag"},` +
				`"auditAnnotations":{"requireDigest":"ephemeral container \"d2\" (spec.ephemeralContainers[1].image): image \"busybox\" is not pinned by digest"}}}`,
		},
		{
			name: "validate ignores status subresource and deletes", path: "/validate",
			body:     admissionReview("u-7", "UPDATE", "Pod", "status", pod("nginx", "")),
			wantCode: 200, want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-7","allowed":true}}`,
		},
		{
			name: "validate ignores delete", path: "/validate", body: admissionReview("u-8", "DELETE", "Pod", "", "null"),
			wantCode: 200, want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-8","allowed":true}}`,
		},
		{
			name: "mutate patch", path: "/mutate", body: admissionReview("u-9", "CREATE", "Pod", "", pod("nginx:1.16", "")),
			wantCode: 200,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-9","allowed":true,` +
				`"patch":"` + mutatePatch + `","patchType":"JSONPatch","auditAnnotations":{"mutations":"label tollgate.dev/admitted=true; runAsNonRoot"}}}`,
		},
		{
			name: "mutate leaves updates alone", path: "/mutate", body: admissionReview("u-10", "UPDATE", "Pod", "", pod("nginx:1.16", "")),
			wantCode: 200, want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-10","allowed":true}}`,
		},
		{
			name: "malformed JSON", path: "/validate", body: `{"kind":"AdmissionReview",`,
			wantCode: 400,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"","allowed":false,` +
				`"status":{"code":400,"reason":"BadRequest","message":"tollgate: malformed review: decoding AdmissionReview: unexpected end of JSON input"}}}`,
		},
		{
			name: "wrong version keeps uid", path: "/validate",
			body:     `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{"uid":"u-11"}}`,
			wantCode: 400,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-11","allowed":false,` +
				`"status":{"code":400,"reason":"BadRequest","message":"tollgate: malformed review: got apiVersion \"admission.k8s.io/v1beta1\" kind \"AdmissionReview\", want admission.k8s.io/v1 AdmissionReview"}}}`,
		},
		{
			name: "field of the wrong type", path: "/validate", body: `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u-w","operation":5}}`,
			wantCode: 400,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"","allowed":false,` +
				`"status":{"code":400,"reason":"BadRequest","message":"tollgate: malformed review: decoding AdmissionReview: request.operation: a JSON number is not allowed here"}}}`,
		},
		{
			name: "no request", path: "/mutate", body: `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}`,
			wantCode: 400,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"","allowed":false,` +
				`"status":{"code":400,"reason":"BadRequest","message":"tollgate: malformed review: no request"}}}`,
		},
		{
			name: "object not a pod", path: "/validate", body: admissionReview("u-12", "CREATE", "Pod", "", `{"spec":{"containers":"x"}}`),
			wantCode: 400,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-12","allowed":false,` +
				`"status":{"code":400,"reason":"BadRequest","message":"tollgate: malformed review: request.object: decoding object: spec.containers: a JSON string is not allowed here"}}}`,
		},
		{
			name: "object not an object", path: "/validate", body: admissionReview("u-12a", "CREATE", "Pod", "", `[1]`),
			wantCode: 400,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-12a","allowed":false,` +
				`"status":{"code":400,"reason":"BadRequest","message":"tollgate: malformed review: request.object: decoding object: the object is a JSON array, not an object"}}}`,
		},
		{
			name: "image review malformed", path: "/image_policy", body: `[1,2]`,
			wantCode: 400,
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,` +
				`"reason":"tollgate: malformed review: decoding ImageReview: the body is a JSON array, not an object"}}`,
		},
		{
			name: "image review wrong kind", path: "/image_policy", body: `{"kind":"AdmissionReview","apiVersion":"imagepolicy.k8s.io/v1alpha1"}`,
			wantCode: 400,
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,` +
				`"reason":"tollgate: malformed review: got apiVersion \"imagepolicy.k8s.io/v1alpha1\" kind \"AdmissionReview\", want imagepolicy.k8s.io/v1alpha1 ImageReview"}}`,
		},
		{
			name: "oversized body", path: "/image_policy", body: big,
			wantCode: 413,
			want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,` +
				`"reason":"tollgate: request body exceeds 7340032 bytes"}}`,
		},
		{
			name: "oversized with a lower cap", opts: HandlerOptions{MaxAdmissionBytes: 100}, path: "/validate",
			body:     admissionReview("u-13", "CREATE", "Pod", "", pod("nginx:1.16", "")),
			wantCode: 413,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"","allowed":false,` +
				`"status":{"code":413,"reason":"RequestEntityTooLarge","message":"tollgate: request body exceeds 100 bytes"}}}`,
		},
		{
			name: "wrong content type", path: "/validate", contentType: "application/yaml", body: admissionReview("u-14", "CREATE", "Pod", "", pod("nginx", "")),
			wantCode: 415,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"","allowed":false,` +
				`"status":{"code":415,"reason":"UnsupportedMediaType","message":"tollgate: Content-Type \"application/yaml\" is not application/json"}}}`,
		},
		{
			name: "content type with charset", path: "/image_policy", contentType: "application/json; charset=utf-8", body: imageReview("default", "", "nginx:1.16@"+testDigest),
			wantCode: 200, want: `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true}}`,
		},
		{
			name: "panic", opts: HandlerOptions{Scorer: panicScorer{}}, path: "/validate", body: admissionReview("u-15", "CREATE", "Pod", "", pod("nginx:1.16", "")),
			wantCode: 500,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-15","allowed":false,` +
				`"status":{"code":500,"reason":"InternalError","message":"tollgate: internal error"}}}`,
		},
		{
			name: "image review panic", opts: HandlerOptions{Policy: func() *policy.Policy { panic("no policy") }}, path: "/image_policy",
			body:     imageReview("default", "", "nginx:1.16"),
			wantCode: 500,
			want:     `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,"reason":"tollgate: internal error"}}`,
		},
		{
			name: "scorer error", opts: HandlerOptions{Scorer: errScorer{}}, path: "/validate", body: admissionReview("u-16", "CREATE", "Pod", "", pod("nginx:1.16", "")),
			wantCode: 500,
			want: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-16","allowed":false,` +
				`"status":{"code":500,"reason":"InternalError","message":"tollgate: scoring Pod \"web\": scorer broke"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := testHandler(t, tt.opts)
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			ct := tt.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			if diff := cmp.Diff(tt.want, rec.Body.String()); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if strings.HasPrefix(tt.path, "/validate") || strings.HasPrefix(tt.path, "/mutate") {
				checkAdmissionResponse(t, tt.path, tt.body, rec.Body.Bytes())
			}
		})
	}
}

// checkAdmissionResponse applies the rules the apiserver enforces on an
// AdmissionReview response (VerifyAdmissionResponse in k8s.io/apiserver).
func checkAdmissionResponse(t *testing.T, path, reqBody string, body []byte) {
	t.Helper()
	var resp admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("response does not decode as AdmissionReview: %v", err)
	}
	if resp.APIVersion != "admission.k8s.io/v1" || resp.Kind != "AdmissionReview" {
		t.Errorf("response is %s %s", resp.APIVersion, resp.Kind)
	}
	if resp.Response == nil {
		t.Fatal("response absent")
	}
	var req admissionv1.AdmissionReview
	if json.Unmarshal([]byte(reqBody), &req) == nil && req.Request != nil && req.Request.UID != "" &&
		!strings.Contains(string(body), `"code":413`) && !strings.Contains(string(body), `"code":415`) && resp.Response.UID != req.Request.UID {
		t.Errorf("response uid %q, want %q", resp.Response.UID, req.Request.UID)
	}
	hasPatch, hasType := len(resp.Response.Patch) > 0, resp.Response.PatchType != nil
	if path == "/validate" && (hasPatch || hasType) {
		t.Error("validating response carries a patch")
	}
	if hasPatch != hasType {
		t.Errorf("patch %v without patchType %v", hasPatch, hasType)
	}
	if !resp.Response.Allowed && (resp.Response.Result == nil || resp.Response.Result.Code == 0 || resp.Response.Result.Message == "") {
		t.Errorf("denial without status code and message: %+v", resp.Response.Result)
	}
}

func TestHandlerMethodsAndProbes(t *testing.T) {
	t.Parallel()
	notReady := false
	h := testHandler(t, HandlerOptions{Ready: func() bool { return notReady }})
	for _, tt := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/validate", http.StatusMethodNotAllowed, ""},
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/readyz", 503, "not ready\n"},
		{"GET", "/nope", 404, ""},
		{"POST", "/scan", 404, ""}, // no scan handler configured
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.code || (tt.body != "" && rec.Body.String() != tt.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.code, tt.body)
		}
	}
}

func TestHandlerMetrics(t *testing.T) {
	t.Parallel()
	h := testHandler(t, HandlerOptions{})
	send := func(path, body, ct string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	send("/image_policy", imageReview("default", "", "nginx"), "application/json")
	send("/image_policy", imageReview("default", "", "nginx:1"), "application/json")
	send("/validate", "{", "application/json")
	send("/mutate", admissionReview("u", "CREATE", "Pod", "", pod("nginx:1", "")), "application/json")
	send("/mutate", "{}", "text/plain")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`tollgate_requests_total{decision="deny",route="image_policy"} 1`,
		`tollgate_requests_total{decision="allow",route="image_policy"} 1`,
		`tollgate_requests_total{decision="invalid",route="validate"} 1`,
		`tollgate_requests_total{decision="patch",route="mutate"} 1`,
		`tollgate_requests_total{decision="invalid",route="mutate"} 1`,
		`tollgate_request_duration_seconds_count{route="image_policy"} 2`,
		`tollgate_policy_reloads_total{result="error"} 0`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestHandlerResolves checks digest pinning against a resolver that fails
// for one image: the other is pinned, the failure becomes a warning.
func TestHandlerResolves(t *testing.T) {
	t.Parallel()
	p := mustPolicy(t, "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  mutations:\n    pinDigests: {enabled: true, timeoutSeconds: 2}\n")
	h := testHandler(t, HandlerOptions{
		Policy: func() *policy.Policy { return p },
		Resolver: resolverFunc(func(_ context.Context, img string) (string, error) {
			if img == "reg.io/gone:1" {
				return "", errors.New("manifest unknown")
			}
			return testDigest, nil
		}),
	})
	obj := `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"},"spec":{"containers":[{"name":"a","image":"reg.io/app:1"},{"name":"b","image":"reg.io/gone:1"}]}}`
	req := httptest.NewRequest(http.MethodPost, "/mutate", strings.NewReader(admissionReview("u", "CREATE", "Pod", "", obj)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	patch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/spec/containers/0/image","value":"reg.io/app:1@` + testDigest + `"}]`))
	want := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patch":"` + patch +
		`","patchType":"JSONPatch","auditAnnotations":{"mutations":"image reg.io/app:1 pinned to ` + testDigest + `"},` +
		`"warnings":["tollgate: reg.io/gone:1 not pinned: manifest unknown"]}}`
	if diff := cmp.Diff(want, rec.Body.String()); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

type resolverFunc func(context.Context, string) (string, error)

func (f resolverFunc) Digest(ctx context.Context, img string) (string, error) { return f(ctx, img) }

func TestHandlerScan(t *testing.T) {
	t.Parallel()
	sc, err := kube.NewScanner(kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := testHandler(t, HandlerOptions{Scan: kube.NewHandler(sc, kube.HandlerOptions{MaxBodyBytes: 1 << 20}), MaxScanBytes: 300})
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: 'nginx:1', securityContext: {privileged: true}}]\n"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/scan", strings.NewReader(pod)))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"id": "Privileged"`) {
		t.Errorf("/scan: %d %s", rec.Code, rec.Body)
	}
	// --max-scan-bytes caps the body before the scanner's own limit.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/scan", strings.NewReader(pod+"# "+strings.Repeat("x", 400)+"\n")))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("/scan over the cap: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`tollgate_requests_total{decision="allow",route="scan"} 1`, `tollgate_requests_total{decision="invalid",route="scan"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
