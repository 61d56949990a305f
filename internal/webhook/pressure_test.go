package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/inflight"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/servertest"
)

const podObject = `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"},"spec":{"containers":[{"name":"a","image":"nginx:1.27"}]}}`

// TestInflightBudget: a review that does not fit in the bytes in flight
// gets 429 with Retry-After and a well-formed review (the apiserver
// retries it); once the budget frees up, the same review is answered.
func TestInflightBudget(t *testing.T) {
	budget := inflight.New(4096)
	h := testHandler(t, HandlerOptions{Inflight: budget})
	review := admissionReview("u-busy", "CREATE", "Pod", "", podObject)
	hold := budget.Lease()
	if !hold.Grow(4096 - int64(len(review))) { // another request holds most of it
		t.Fatal("could not fill the budget")
	}
	for _, route := range []string{"/validate", "/mutate", "/image_policy"} {
		body := review
		if route == "/image_policy" {
			body = imageReview("default", "", strings.Repeat("a", 500)+":1")
		}
		req := httptest.NewRequest(http.MethodPost, route, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s: status %d, Retry-After %q; want 429 with Retry-After", route, rec.Code, rec.Header().Get("Retry-After"))
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v["kind"] == nil {
			t.Errorf("%s: 429 body is not a review: %s", route, rec.Body)
		}
	}
	hold.Release()
	req := httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(review))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("after release: status %d, want 200: %s", rec.Code, rec.Body)
	}
}

// TestBadBodyHidesAddresses: a body cut short is a 400 whose message does
// not show the connection's socket addresses.
func TestBadBodyHidesAddresses(t *testing.T) {
	reply := servertest.CutBodyReply(t, testHandler(t, HandlerOptions{}), "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"kind\":")
	if !strings.Contains(reply, "could not be read to its end") {
		t.Errorf("reply not in our words:\n%s", reply)
	}
}

// slowResolver blocks until its context ends and records that it did.
type slowResolver struct{ stopped chan struct{} }

func (r slowResolver) Digest(ctx context.Context, _ string) (string, error) {
	<-ctx.Done()
	close(r.stopped)
	return "", ctx.Err()
}

// TestClientGoneStopsWork: when the client goes away, the registry
// look-ups of its /mutate stop (they run under the request's context).
func TestClientGoneStopsWork(t *testing.T) {
	p := mustPolicy(t, "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  mutations:\n    pinDigests: {enabled: true, timeoutSeconds: 30}\n")
	res := slowResolver{stopped: make(chan struct{})}
	h := newHandler(HandlerOptions{Policy: func() *policy.Policy { return p }, Resolver: res}).mux()
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/mutate", strings.NewReader(admissionReview("u", "CREATE", "Pod", "", podObject))).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel() // the client hangs up
	}()
	done := make(chan struct{})
	go func() { h.ServeHTTP(httptest.NewRecorder(), req); close(done) }()
	select {
	case <-res.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the look-up went on after the client had gone")
	}
	<-done
}
