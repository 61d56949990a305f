package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// DefaultAddr is where `tollgate kube http` listens by default: loopback
// only, since the endpoint has no authentication.
const DefaultAddr = "127.0.0.1:8080"

// ListenAddr turns the address argument of `kube http` into a listen
// address: "8080" means 127.0.0.1:8080 (kubesec would listen on every
// interface; say ":8080" for that), anything else is used as given.
func ListenAddr(arg string) string {
	if arg == "" {
		return DefaultAddr
	}
	if !strings.Contains(arg, ":") {
		return net.JoinHostPort("127.0.0.1", arg)
	}
	return arg
}

// NewMux serves the scan handler at / and /scan (both, as kubesec does)
// and a liveness probe at /healthz.
func NewMux(scan http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/scan", scan)
	mux.Handle("/{$}", scan)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	return mux
}

// shutdownGrace is how long in-flight requests may take to finish once the
// server is asked to stop.
const shutdownGrace = 10 * time.Second

// Serve serves h on ln until ctx is cancelled, then stops accepting
// connections and waits (up to 10 s) for the requests in flight.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("requests still in flight after %s were cut off", shutdownGrace)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
