package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/inflight"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

// Body limits. The apiserver caps what it sends to a webhook at about
// 3 MiB (etcd's request limit is 1.5 MiB per object, and an
// AdmissionReview can carry the object and oldObject); 7 MiB leaves room
// without letting a client make us buffer arbitrary amounts. /scan takes
// manifests from people, not from the apiserver: 2 MiB.
const (
	DefaultMaxAdmissionBytes = 7 << 20
	DefaultMaxScanBytes      = 2 << 20
)

// Route names, as they appear in metrics.
const (
	routeImagePolicy = "image_policy"
	routeValidate    = "validate"
	routeMutate      = "mutate"
	routeScan        = "scan"
)

// Resolver resolves an image reference with a tag to its manifest digest
// ("sha256:…") at the registry.
type Resolver interface {
	Digest(ctx context.Context, image string) (string, error)
}

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// Policy returns the policy in force; it is called once per request,
	// so a reload takes effect at the next request.
	Policy func() *policy.Policy
	// Scorer scores workloads for the kubesec rules (nil: they are skipped).
	Scorer policy.Scorer
	// Resolver resolves tags for digest pinning (nil: no pinning). Give
	// the gate the same one: /mutate's pin and the gate's decision are
	// then one look-up.
	Resolver Resolver
	// Gate decides the rules that need the image itself: vulnerabilities,
	// image checks, signatures (nil: a gate with no scanner or verifier,
	// so those rules follow their onError).
	Gate *gate.Gate
	// Scan serves POST /scan (nil: 404).
	Scan http.Handler
	// MaxAdmissionBytes and MaxScanBytes cap request bodies (0: defaults).
	MaxAdmissionBytes, MaxScanBytes int64
	// Inflight bounds the review bodies held at once (nil: unbounded);
	// give the same budget to Scan's handler so /scan shares it.
	Inflight *inflight.Budget
	// ClientCertRoutes lists the routes ("image_policy", "validate",
	// "mutate", "scan") that require a verified client certificate.
	ClientCertRoutes []string
	// Ready reports readiness for /readyz (nil: always ready).
	Ready func() bool
	// Logger receives decisions and errors (nil: discarded).
	Logger *slog.Logger

	metrics *metrics
}

// handler serves every route of tollgate serve.
type handler struct {
	opts     HandlerOptions
	gate     *gate.Gate
	log      *slog.Logger
	metrics  *metrics
	needCert map[string]bool
	bufs     sync.Pool
}

// NewHandler returns the HTTP handler of tollgate serve: POST
// /image_policy, /validate, /mutate and /scan, GET /healthz, /readyz and
// /metrics.
func NewHandler(o HandlerOptions) http.Handler {
	h := newHandler(o)
	return h.mux()
}

func newHandler(o HandlerOptions) *handler {
	if o.MaxAdmissionBytes <= 0 {
		o.MaxAdmissionBytes = DefaultMaxAdmissionBytes
	}
	if o.MaxScanBytes <= 0 {
		o.MaxScanBytes = DefaultMaxScanBytes
	}
	h := &handler{opts: o, gate: o.Gate, log: o.Logger, metrics: o.metrics, needCert: map[string]bool{}}
	if h.gate == nil {
		h.gate = gate.New(gate.Options{Resolver: o.Resolver})
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.metrics == nil {
		h.metrics = newMetrics()
	}
	for _, r := range o.ClientCertRoutes {
		h.needCert[r] = true
	}
	return h
}

func (h *handler) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /image_policy", h.review(routeImagePolicy, imageReviewErr, h.imagePolicy))
	mux.Handle("POST /validate", h.review(routeValidate, admissionReviewErr, h.validate))
	mux.Handle("POST /mutate", h.review(routeMutate, admissionReviewErr, h.mutate))
	if h.opts.Scan != nil {
		mux.Handle("POST /scan", h.scan(h.opts.Scan))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if h.opts.Ready != nil && !h.opts.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", h.metrics.handler())
	return mux
}

// call is the state of one review request, for the error paths.
type call struct {
	uid string // the AdmissionReview uid once known
}

// reply is what a review function decided.
type reply struct {
	code     int
	body     any
	decision string
}

// errBodyFunc builds the well-formed review body for an error answer.
type errBodyFunc func(uid string, code int, msg string) any

func imageReviewErr(_ string, _ int, msg string) any {
	return newImageReviewResponse(imageReviewStatus{Allowed: false, Reason: "tollgate: " + msg})
}

func admissionReviewErr(uid string, code int, msg string) any {
	return newAdmissionReviewResponse(failed(uid, code, reasonFor(code), "tollgate: "+msg))
}

func reasonFor(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusRequestEntityTooLarge:
		return "RequestEntityTooLarge"
	case http.StatusUnsupportedMediaType:
		return "UnsupportedMediaType"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	}
	return "InternalError"
}

// review wraps a review function with what every admission route needs:
// panic recovery, the client-certificate check, the content-type check,
// the body cap, metrics and the JSON answer. Every answer, errors
// included, is a well-formed review of the route's kind.
func (h *handler) review(route string, errBody errBodyFunc, fn func(ctx context.Context, c *call, body []byte) (reply, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		c := &call{}
		answered := false
		answer := func(code int, body any, decision string) {
			answered = true
			h.write(w, code, body)
			h.metrics.requests.WithLabelValues(route, decision).Inc()
			took := time.Since(start).Seconds()
			h.metrics.duration.WithLabelValues(route).Observe(took)
			h.metrics.decisions.WithLabelValues(route, decision).Observe(took)
		}
		fail := func(code int, decision, msg string) {
			answer(code, errBody(c.uid, code, msg), decision)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.log.Error("handler panic", "route", route, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !answered {
					// A 500 makes the apiserver apply failurePolicy /
					// defaultAllow, as for any backend failure: a bug in
					// tollgate is not a policy decision.
					fail(http.StatusInternalServerError, decisionError, "internal error")
				}
			}
		}()
		if h.needCert[route] && !verifiedClient(r) {
			fail(http.StatusUnauthorized, decisionUnauthorized, "a client certificate signed by the configured client CA is required")
			return
		}
		if err := checkContentType(r); err != nil {
			fail(http.StatusUnsupportedMediaType, decisionInvalid, err.Error())
			return
		}
		lease := h.opts.Inflight.Lease()
		defer lease.Release()
		buf := h.getBuf()
		defer h.putBuf(buf)
		body, err := inflight.ReadBody(w, r, h.opts.MaxAdmissionBytes, lease, buf)
		if err != nil {
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				fail(http.StatusRequestEntityTooLarge, decisionInvalid, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit))
			case errors.Is(err, inflight.ErrBusy):
				// The apiserver retries a 429 with Retry-After, then
				// applies failurePolicy / defaultAllow.
				w.Header().Set("Retry-After", inflight.RetryAfter)
				fail(http.StatusTooManyRequests, decisionBusy, "too many requests in flight, retry shortly")
			default:
				// The error names the connection's addresses: not for the reply.
				h.log.Debug("reading request body", "route", route, "error", err)
				fail(http.StatusBadRequest, decisionInvalid, "the request body could not be read to its end")
			}
			return
		}
		if r.Context().Err() != nil {
			return // the client has gone: nobody reads the answer
		}
		rep, err := fn(r.Context(), c, body)
		if err != nil {
			if errors.Is(err, errMalformed) {
				h.log.Warn("malformed request", "route", route, "remote", r.RemoteAddr, "error", err)
				fail(http.StatusBadRequest, decisionInvalid, err.Error())
				return
			}
			h.log.Error("request failed", "route", route, "uid", c.uid, "error", err)
			fail(http.StatusInternalServerError, decisionError, err.Error())
			return
		}
		answer(rep.code, rep.body, rep.decision)
	})
}

// verifiedClient reports whether the TLS client presented a certificate
// that verified against the client CA.
func verifiedClient(r *http.Request) bool {
	return r.TLS != nil && len(r.TLS.VerifiedChains) > 0
}

func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return errors.New("missing Content-Type, want application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return fmt.Errorf("Content-Type %q is not application/json", ct)
	}
	return nil
}

// getBuf and putBuf recycle request buffers: at thousands of requests a
// second, allocating each body afresh is most of the garbage.
func (h *handler) getBuf() *bytes.Buffer {
	if b, ok := h.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return bytes.NewBuffer(make([]byte, 0, 16<<10))
}

func (h *handler) putBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // let an occasional huge body go back to the GC
	}
	b.Reset()
	h.bufs.Put(b)
}

func (h *handler) write(w http.ResponseWriter, code int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// Our response types always encode; keep the promise of a JSON body anyway.
		h.log.Error("encoding response", "error", err)
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
