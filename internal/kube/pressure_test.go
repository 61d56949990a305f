package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/inflight"
	"github.com/tollgate-dev/tollgate/internal/servertest"
)

func tinyPods(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\nkind: Pod\napiVersion: v1\nmetadata: {name: p%d}\nspec: {containers: [{name: c, image: i}]}\n", i)
	}
	return b.String()
}

func post(t *testing.T, h http.Handler, ctx context.Context, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/scan", strings.NewReader(body)).WithContext(ctx)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestHandlerMaxDocuments: more documents than the limit get 413 (a 2 MiB
// body of tiny Pods would otherwise make a reply of tens of megabytes);
// exactly the limit is scanned.
func TestHandlerMaxDocuments(t *testing.T) {
	h := NewHandler(newTestScanner(t, Options{}), HandlerOptions{MaxDocuments: 50})
	if rec := post(t, h, context.Background(), tinyPods(50)); rec.Code != http.StatusOK {
		t.Fatalf("50 documents: status %d, want 200", rec.Code)
	}
	rec := post(t, h, context.Background(), tinyPods(51))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "more than 50 documents") {
		t.Errorf("51 documents: status %d %s, want 413 naming the limit", rec.Code, rec.Body)
	}
	// The default applies when none is given.
	h = NewHandler(newTestScanner(t, Options{}), HandlerOptions{})
	if rec := post(t, h, context.Background(), tinyPods(DefaultMaxDocuments+1)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("default limit: status %d, want 413", rec.Code)
	}
}

// TestHandlerInflight: a body that does not fit in the shared budget gets
// 429 with Retry-After; bodies of unknown length are counted as they
// arrive.
func TestHandlerInflight(t *testing.T) {
	budget := inflight.New(8 << 10)
	h := NewHandler(newTestScanner(t, Options{}), HandlerOptions{Inflight: budget})
	hold := budget.Lease()
	hold.Grow(6 << 10)
	body := tinyPods(40) // ~3.5 KB
	rec := post(t, h, context.Background(), body)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	req := httptest.NewRequest(http.MethodPost, "/scan", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("unknown length: status %d, want 429", rec.Code)
	}
	hold.Release()
	if rec := post(t, h, context.Background(), body); rec.Code != http.StatusOK {
		t.Errorf("after release: status %d, want 200", rec.Code)
	}
}

// TestHandlerClientGone: once the client has gone, the scan stops and
// nothing is written.
func TestHandlerClientGone(t *testing.T) {
	h := NewHandler(newTestScanner(t, Options{}), HandlerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := post(t, h, ctx, tinyPods(500))
	if rec.Body.Len() != 0 {
		t.Errorf("wrote %d bytes for a client that had gone", rec.Body.Len())
	}
}

// TestHandlerBadBodyHidesAddresses: a body cut short is a 400 in our
// words, without the connection's socket addresses.
func TestHandlerBadBodyHidesAddresses(t *testing.T) {
	reply := servertest.CutBodyReply(t, NewHandler(newTestScanner(t, Options{}), HandlerOptions{}), "POST /scan HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nkind: Pod\n")
	if !strings.Contains(reply, "could not be read to its end") {
		t.Errorf("reply not in our words:\n%s", reply)
	}
}
