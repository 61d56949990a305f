package webhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	imagepolicyv1alpha1 "k8s.io/api/imagepolicy/v1alpha1"

	"github.com/tollgate-dev/tollgate/internal/policy"
)

// fuzzPolicy turns every rule on, so fuzzed input reaches all of them.
const fuzzPolicy = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  images:
    requireDigest: {mode: warn}
    allowedRegistries: {mode: audit, registries: [docker.io, reg.io:5000]}
  workloads:
    kubesecCritical: {mode: enforce}
    minimumScore: {mode: warn, score: 1}
  exemptions: [{namespaces: [kube-system]}]
  mutations:
    labels: {a: b}
    defaultServiceAccount: app
    securityContext: {runAsNonRoot: true, seccompRuntimeDefault: true, allowPrivilegeEscalationFalse: true, dropAllCapabilities: true}
`

// fuzzHandler builds the handler once per fuzz target.
func fuzzHandler(f *testing.F) http.Handler {
	p, err := policy.Parse([]byte(fuzzPolicy))
	if err != nil {
		f.Fatal(err)
	}
	return newHandler(HandlerOptions{Policy: func() *policy.Policy { return p }, Scorer: privilegedScorer{}}).mux()
}

func fuzzServe(h http.Handler, path string, body []byte) (int, []byte) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// FuzzImageReview: any body gets 200 or 400 (never 5xx: that would be a
// recovered panic or a decision sent as a backend failure) and a
// well-formed ImageReview.
func FuzzImageReview(f *testing.F) {
	for _, s := range []string{
		imageReview("default", "", "nginx"),
		imageReview("default", `{"x.image-policy.k8s.io/break-glass":"true"}`, "nginx:latest", "reg.io:5000/a/b@"+testDigest),
		imageReview("kube-system", "", "Bad Image"),
		`{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[{"image":""}]}}`,
		`{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":null}`,
		`{}`, `null`, `[`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		code, out := fuzzServe(h, "/image_policy", body)
		if code != 200 && code != 400 {
			t.Fatalf("status %d for %q: %s", code, body, out)
		}
		var r imagepolicyv1alpha1.ImageReview
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("response is not an ImageReview: %v: %s", err, out)
		}
		if r.APIVersion != imageReviewAPIVersion || r.Kind != imageReviewKind {
			t.Fatalf("response is %s %s", r.APIVersion, r.Kind)
		}
		if !r.Status.Allowed && r.Status.Reason == "" {
			t.Fatalf("denial without reason: %s", out)
		}
	})
}

// FuzzAdmissionReview: the same for /validate and /mutate, plus the
// apiserver's rules on the response (uid echoed, no patch from /validate,
// patch and patchType together, a denial carries code and message).
func FuzzAdmissionReview(f *testing.F) {
	for _, s := range []string{
		admissionReview("u1", "CREATE", "Pod", "", pod("nginx", "")),
		admissionReview("u2", "CREATE", "Pod", "", pod("nginx:1.16", `,"securityContext":{"privileged":true}`)),
		admissionReview("u3", "UPDATE", "Pod", "ephemeralcontainers", `{"spec":{"ephemeralContainers":[{"name":"d","image":"busybox"}]}}`),
		admissionReview("u4", "CREATE", "Deployment", "", `{"kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:latest"}]}}}}`),
		admissionReview("u5", "CREATE", "Pod", "", `{"metadata":{"labels":null},"spec":{"securityContext":null,"containers":[{"securityContext":{"capabilities":null}}]}}`),
		admissionReview("u6", "CREATE", "Pod", "", `[]`),
		admissionReview("u7", "DELETE", "Pod", "", `null`),
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"kind":"CronJob"},"operation":"CREATE","object":{"spec":{"jobTemplate":null}}}}`,
		`{}`, `{"request":{}}`, `nul`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte, mutate bool) {
		path := "/validate"
		if mutate {
			path = "/mutate"
		}
		code, out := fuzzServe(h, path, body)
		if code != 200 && code != 400 {
			t.Fatalf("status %d for %q: %s", code, body, out)
		}
		var r admissionv1.AdmissionReview
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("response is not an AdmissionReview: %v: %s", err, out)
		}
		if r.APIVersion != admissionReviewAPIVersion || r.Kind != admissionReviewKind || r.Response == nil {
			t.Fatalf("response is %s %s, response %v", r.APIVersion, r.Kind, r.Response)
		}
		if code == 200 {
			var req admissionv1.AdmissionReview
			if err := json.Unmarshal(body, &req); err != nil || req.Request == nil || req.Request.UID != r.Response.UID {
				t.Fatalf("answered 200 with uid %q to %q", r.Response.UID, body)
			}
		}
		hasPatch, hasType := len(r.Response.Patch) > 0, r.Response.PatchType != nil
		if hasPatch != hasType || (!mutate && hasPatch) {
			t.Fatalf("patch %v, patchType %v on %s", hasPatch, hasType, path)
		}
		if !r.Response.Allowed && (r.Response.Result == nil || r.Response.Result.Code == 0 || r.Response.Result.Message == "") {
			t.Fatalf("denial without code and message: %s", out)
		}
		if hasPatch {
			var ops []map[string]any
			if err := json.Unmarshal(r.Response.Patch, &ops); err != nil || len(ops) == 0 {
				t.Fatalf("patch is not a JSON Patch: %v %s", err, r.Response.Patch)
			}
		}
	})
}
