package webhook

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/kube"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

// benchPod is a one-container Pod as the apiserver sends it after
// defaulting (service-account volume, tolerations, managed fields).
const benchPod = `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","uid":"0f8b2a6e-3c55-4d0f-8f0e-6c1f7d9b2e44","creationTimestamp":"2026-11-27T10:00:00Z","labels":{"run":"web"},"managedFields":[{"manager":"kubectl-run","operation":"Update","apiVersion":"v1","time":"2026-11-27T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:run":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}]},"spec":{"volumes":[{"name":"kube-api-access-7xk2p","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],"containers":[{"name":"web","image":"nginx:1.16","resources":{},"volumeMounts":[{"name":"kube-api-access-7xk2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","qosClass":"BestEffort"}}`

func benchHandler(b *testing.B, doc string, scorer policy.Scorer) http.Handler {
	p := policy.Default()
	if doc != "" {
		p = mustPolicy(b, doc)
	}
	return newHandler(HandlerOptions{Policy: func() *policy.Policy { return p }, Scorer: scorer}).mux()
}

func benchServe(b *testing.B, h http.Handler, path, body, want string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// The handler alone, without TLS and HTTP (bench/admission measures the
// whole server).
func BenchmarkImageReview(b *testing.B) {
	benchServe(b, benchHandler(b, "", nil), "/image_policy", imageReview("default", "", "nginx:1.16"), `"allowed":true`)
}

func BenchmarkValidate(b *testing.B) {
	benchServe(b, benchHandler(b, "", nil), "/validate", admissionReview("u", "CREATE", "Pod", "", benchPod), `"allowed":true`)
}

func BenchmarkValidateKubesec(b *testing.B) {
	sc, err := kube.NewScanner(kube.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := benchHandler(b, "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  workloads:\n    kubesecCritical: {mode: enforce}\n", policy.KubesecScorer{Scanner: sc})
	benchServe(b, h, "/validate", admissionReview("u", "CREATE", "Pod", "", benchPod), `"allowed":true`)
}

func BenchmarkMutate(b *testing.B) {
	h := benchHandler(b, "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  mutations:\n    labels: {tollgate.dev/admitted: \"true\"}\n    securityContext: {runAsNonRoot: true, seccompRuntimeDefault: true, allowPrivilegeEscalationFalse: true, dropAllCapabilities: true}\n", nil)
	benchServe(b, h, "/mutate", admissionReview("u", "CREATE", "Pod", "", benchPod), `"patchType":"JSONPatch"`)
}
