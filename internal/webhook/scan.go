package webhook

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"
)

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
			case rec.code == http.StatusTooManyRequests:
				decision = decisionBusy
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
