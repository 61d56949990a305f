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
	"strings"
	"sync"
	"time"

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
	// Resolver resolves tags for digest pinning (nil: no pinning).
	Resolver Resolver
	// Scan serves POST /scan (nil: 404).
	Scan http.Handler
	// MaxAdmissionBytes and MaxScanBytes cap request bodies (0: defaults).
	MaxAdmissionBytes, MaxScanBytes int64
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
	h := &handler{opts: o, log: o.Logger, metrics: o.metrics, needCert: map[string]bool{}}
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
			h.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
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
		buf := h.getBuf()
		defer h.putBuf(buf)
		body, err := readBody(w, r, h.opts.MaxAdmissionBytes, buf)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				fail(http.StatusRequestEntityTooLarge, decisionInvalid, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit))
				return
			}
			fail(http.StatusBadRequest, decisionInvalid, fmt.Sprintf("reading request body: %v", err))
			return
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

// scan wraps the kubesec-compatible /scan handler with the client
// certificate check, panic recovery and metrics.
func (h *handler) scan(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			decision := decisionAllow
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.log.Error("handler panic", "route", routeScan, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.code == 0 {
					http.Error(rec, "internal error", http.StatusInternalServerError)
				}
			}
			switch {
			case rec.code == http.StatusUnauthorized:
				decision = decisionUnauthorized
			case rec.code >= 500:
				decision = decisionError
			case rec.code >= 400:
				decision = decisionInvalid
			}
			h.metrics.requests.WithLabelValues(routeScan, decision).Inc()
			h.metrics.duration.WithLabelValues(routeScan).Observe(time.Since(start).Seconds())
		}()
		if h.needCert[routeScan] && !verifiedClient(r) {
			http.Error(rec, "a client certificate signed by the configured client CA is required", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, h.opts.MaxScanBytes)
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
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

// readBody reads the request body, at most max bytes, into buf. The bytes
// are valid until buf is recycled, so nothing may keep them past the request.
func readBody(w http.ResponseWriter, r *http.Request, max int64, buf *bytes.Buffer) ([]byte, error) {
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

// imagePolicy answers an ImageReview from the ImagePolicyWebhook plugin.
func (h *handler) imagePolicy(_ context.Context, _ *call, body []byte) (reply, error) {
	rev, err := decodeImageReview(body)
	if err != nil {
		return reply{}, err
	}
	images := make([]string, len(rev.Spec.Containers))
	for i, c := range rev.Spec.Containers {
		images[i] = c.Image
	}
	pol := h.opts.Policy()
	d := pol.ReviewImages(rev.Spec.Namespace, images, rev.Spec.Annotations)
	st := imageReviewStatus{Allowed: d.Allowed(), AuditAnnotations: d.AuditAnnotations(true)}
	decision := decisionAllow
	if !st.Allowed {
		reason := d.Reason()
		st.Reason = "tollgate: " + reason
		decision = decisionDeny
		h.log.Info("denied", "route", routeImagePolicy, "namespace", rev.Spec.Namespace, "reason", reason)
	}
	return reply{code: http.StatusOK, body: newImageReviewResponse(st), decision: decision}, nil
}

// validate answers an AdmissionReview from the ValidatingAdmissionWebhook plugin.
func (h *handler) validate(_ context.Context, c *call, body []byte) (reply, error) {
	req, uid, err := decodeAdmissionReview(body)
	c.uid = uid
	if err != nil {
		return reply{}, err
	}
	allow := reply{code: http.StatusOK, body: newAdmissionReviewResponse(admissionResponse{UID: uid, Allowed: true}), decision: decisionAllow}
	if !reviewed(req.Operation, req.SubResource) || !policy.IsWorkloadKind(req.Kind.Kind) {
		return allow, nil
	}
	raw := req.Object
	if len(raw) == 0 {
		return reply{}, fmt.Errorf("%w: request.object is missing", errMalformed)
	}
	w, _, err := policy.DecodeWorkload(req.Kind.Kind, raw)
	if err != nil {
		return reply{}, fmt.Errorf("%w: request.object: %v", errMalformed, err)
	}
	pol := h.opts.Policy()
	d, err := pol.ReviewWorkload(w, req.Namespace, raw, h.opts.Scorer)
	if err != nil {
		return reply{}, err
	}
	resp := admissionResponse{UID: uid, Allowed: true}
	decision := decisionAllow
	if !d.Allowed() {
		reason := d.Reason()
		resp = denied(uid, "tollgate: "+reason)
		decision = decisionDeny
		h.log.Info("denied", "route", routeValidate, "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name, "reason", reason)
	}
	resp.Warnings, resp.AuditAnnotations = d.Warnings(), d.AuditAnnotations(false)
	return reply{code: http.StatusOK, body: newAdmissionReviewResponse(resp), decision: decision}, nil
}

// reviewed reports whether /validate looks at an operation: creates and
// updates of the object itself or of its ephemeral containers.
func reviewed(op, sub string) bool {
	if op != "CREATE" && op != "UPDATE" {
		return false
	}
	return sub == "" || sub == "ephemeralcontainers"
}

// mutate answers an AdmissionReview from the MutatingAdmissionWebhook
// plugin: Pods at creation get the policy's mutations as a JSON Patch.
func (h *handler) mutate(ctx context.Context, c *call, body []byte) (reply, error) {
	req, uid, err := decodeAdmissionReview(body)
	c.uid = uid
	if err != nil {
		return reply{}, err
	}
	allow := reply{code: http.StatusOK, body: newAdmissionReviewResponse(admissionResponse{UID: uid, Allowed: true}), decision: decisionAllow}
	if req.Kind.Kind != "Pod" || req.Operation != "CREATE" || req.SubResource != "" {
		return allow, nil
	}
	raw := req.Object
	if len(raw) == 0 {
		return reply{}, fmt.Errorf("%w: request.object is missing", errMalformed)
	}
	pol := h.opts.Policy()
	var warnings []string
	var digests map[string]string
	if pin, secs := pol.PinDigests(); pin && h.opts.Resolver != nil {
		w, _, err := policy.DecodeWorkload("Pod", raw)
		if err != nil {
			return reply{}, fmt.Errorf("%w: request.object: %v", errMalformed, err)
		}
		if images := pol.Pinnable(req.Namespace, w); len(images) > 0 {
			digests, warnings = h.resolve(ctx, images, time.Duration(secs)*time.Second)
		}
	}
	m, err := pol.Mutate(req.Namespace, raw, digests)
	if err != nil {
		return reply{}, fmt.Errorf("%w: request.object: %v", errMalformed, err)
	}
	resp := admissionResponse{UID: uid, Allowed: true, Warnings: warnings}
	if len(m.Patch) == 0 {
		return reply{code: http.StatusOK, body: newAdmissionReviewResponse(resp), decision: decisionAllow}, nil
	}
	patch, err := json.Marshal(m.Patch)
	if err != nil {
		return reply{}, fmt.Errorf("encoding patch: %w", err)
	}
	resp.Patch, resp.PatchType = patch, "JSONPatch"
	resp.AuditAnnotations = map[string]string{"mutations": strings.Join(m.Changes, "; ")}
	return reply{code: http.StatusOK, body: newAdmissionReviewResponse(resp), decision: decisionPatch}, nil
}

// resolve looks up digests for images concurrently within timeout. Images
// that fail are left as they are, with a warning each: pinning is a
// convenience, and /validate judges the result.
func (h *handler) resolve(ctx context.Context, images []string, timeout time.Duration) (map[string]string, []string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		image, digest string
		err           error
	}
	results := make([]result, len(images))
	var wg sync.WaitGroup
	for i, img := range images {
		wg.Go(func() {
			d, err := h.opts.Resolver.Digest(ctx, img)
			results[i] = result{img, d, err}
		})
	}
	wg.Wait()
	digests := map[string]string{}
	var warnings []string
	for _, r := range results {
		if r.err != nil {
			h.log.Warn("digest resolution failed", "image", r.image, "error", r.err)
			warnings = append(warnings, shorten(fmt.Sprintf("tollgate: %s not pinned: %v", r.image, r.err), 200))
			continue
		}
		digests[r.image] = r.digest
	}
	return digests, warnings
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
