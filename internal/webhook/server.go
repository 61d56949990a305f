// Package webhook is tollgate's admission server: HTTPS handlers for the
// ImagePolicyWebhook's ImageReview (/image_policy), validating and mutating
// AdmissionReviews (/validate, /mutate), the kubesec-compatible /scan,
// health, readiness and Prometheus metrics — with the serving certificate,
// client CA and policy reloaded from disk when they change, and a graceful
// shutdown. Decisions come from internal/policy; this package only speaks
// the protocols (see shared docs admission-api.md): every answer is a
// well-formed review, a denial is HTTP 200 with allowed: false, and 5xx is
// kept for tollgate's own failures, which the apiserver handles with
// defaultAllow / failurePolicy.
package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/inflight"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

// Client-certificate requirements for --require-client-cert.
const (
	// RequireImagePolicy requires a verified client certificate on
	// /image_policy: the ImagePolicyWebhook kubeconfig always presents one.
	RequireImagePolicy = "image-policy"
	// RequireAll requires one on /image_policy, /validate, /mutate and
	// /scan; the apiserver then needs the admission webhook kubeconfig.
	RequireAll = "all"
)

// DefaultShutdownTimeout is how long requests in flight may finish after
// the stop signal: below Kubernetes' default 30 s grace period.
const DefaultShutdownTimeout = 25 * time.Second

// DefaultMaxInflightBytes is the default of request bytes tollgate serve
// holds at once: ten review bodies at the default cap, thousands of the
// usual few-kilobyte ones.
const DefaultMaxInflightBytes = 64 << 20

// Options configure Serve.
type Options struct {
	// Addr is the listen address (host:port).
	Addr string
	// CertFile and KeyFile are the serving pair, reloaded on change.
	CertFile, KeyFile string
	// ClientCAFile verifies client certificates; RequireClientCert says
	// on which routes one is required (RequireImagePolicy, the default
	// with a CA, or RequireAll).
	ClientCAFile, RequireClientCert string
	// PolicyFile is the policy ("" = the built-in default), reloaded on change.
	PolicyFile string
	// MaxAdmissionBytes and MaxScanBytes cap request bodies (0: defaults).
	MaxAdmissionBytes, MaxScanBytes int64
	// Inflight bounds the request bytes held at once (nil: unbounded).
	Inflight *inflight.Budget
	// ShutdownTimeout bounds the wait for in-flight requests (default 25 s,
	// below Kubernetes' default 30 s grace period).
	ShutdownTimeout time.Duration
	// ReloadInterval is how often files are checked when no change
	// notification arrives (default 10 s).
	ReloadInterval time.Duration
	// Scorer, Resolver, Gate and Scan: see HandlerOptions.
	Scorer   policy.Scorer
	Resolver Resolver
	Gate     *gate.Gate
	Scan     http.Handler
	// Collectors are more metrics for /metrics (the gate's counters, the
	// scan cache's status).
	Collectors []prometheus.Collector
	// Logger receives the server's log (nil: discarded).
	Logger *slog.Logger
	// Listening, when set, is called with the bound address once the
	// server accepts connections.
	Listening func(net.Addr)
}

// Serve runs the admission server until ctx is cancelled, then shuts down
// gracefully: readiness turns false, the listener closes and in-flight
// requests finish (up to ShutdownTimeout). It returns an error when the
// server cannot start.
func Serve(ctx context.Context, o Options) error {
	if o.CertFile == "" || o.KeyFile == "" {
		return errNoCert
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var certRoutes []string
	switch {
	case o.ClientCAFile == "" && o.RequireClientCert != "":
		return fmt.Errorf("requiring client certificates (%s) needs a client CA", o.RequireClientCert)
	case o.ClientCAFile == "":
	case o.RequireClientCert == "" || o.RequireClientCert == RequireImagePolicy:
		certRoutes = []string{routeImagePolicy}
	case o.RequireClientCert == RequireAll:
		certRoutes = []string{routeImagePolicy, routeValidate, routeMutate, routeScan}
	default:
		return fmt.Errorf("client certificate requirement %q is not %s or %s", o.RequireClientCert, RequireImagePolicy, RequireAll)
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.ReloadInterval <= 0 {
		o.ReloadInterval = 10 * time.Second
	}

	m := newMetrics()
	for _, c := range o.Collectors {
		if err := m.registry.Register(c); err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	certs := newTLSStore(o.CertFile, o.KeyFile, o.ClientCAFile)
	if _, err := certs.reload(); err != nil {
		return err
	}
	pols := newPolicyStore(o.PolicyFile)
	if _, err := pols.reload(); err != nil {
		return err
	}
	m.setPolicy(pols.get().Name())

	var ready atomic.Bool
	h := newHandler(HandlerOptions{
		Policy:            pols.get,
		Scorer:            o.Scorer,
		Resolver:          o.Resolver,
		Gate:              o.Gate,
		Scan:              o.Scan,
		MaxAdmissionBytes: o.MaxAdmissionBytes,
		MaxScanBytes:      o.MaxScanBytes,
		Inflight:          o.Inflight,
		ClientCertRoutes:  certRoutes,
		Ready:             ready.Load,
		Logger:            log,
		metrics:           m,
	})
	srv := &http.Server{
		Handler: h.mux(),
		// Each handshake takes the current certificate and client CA.
		TLSConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			NextProtos: []string{"h2", "http/1.1"},
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
				return certs.get(), nil
			},
		},
		// The apiserver waits at most 30 s per webhook call; nothing
		// legitimate takes longer.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Addr, err)
	}

	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	files := func() []string { return append(slices.Clone(certs.files), pols.watched()...) }
	go watch(watchCtx, log, files, o.ReloadInterval, func() {
		if changed, err := certs.reload(); err != nil {
			m.certReloads.WithLabelValues("error").Inc()
			log.Error("certificate reload failed, keeping the previous one", "error", err)
		} else if changed {
			m.certReloads.WithLabelValues("success").Inc()
			log.Info("certificate reloaded", "cert", o.CertFile)
		}
		if changed, err := pols.reload(); err != nil {
			m.policyReloads.WithLabelValues("error").Inc()
			log.Error("policy reload failed, keeping the previous one", "error", err)
		} else if changed {
			m.policyReloads.WithLabelValues("success").Inc()
			m.setPolicy(pols.get().Name())
			log.Info("policy reloaded", "policy", pols.get().Name(), "file", o.PolicyFile, "rules", pols.get().Summary())
		}
	})

	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	ready.Store(true)
	log.Info("serving", "addr", ln.Addr().String(), "policy", pols.get().Name(), "client_cert_routes", certRoutes)
	log.Info("policy rules", "policy", pols.get().Name(), "rules", pols.get().Summary())
	if o.Listening != nil {
		o.Listening(ln.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	ready.Store(false)
	log.Info("shutting down", "timeout", o.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("requests still in flight after %s were cut off", o.ShutdownTimeout)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("stopped")
	return nil
}
