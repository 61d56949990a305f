package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// DefaultProbeURL is what Probe checks when ProbeOptions.URL is empty: the
// liveness route of a server listening on --addr :8443.
const DefaultProbeURL = "https://127.0.0.1:8443/healthz"

// ProbeOptions configure Probe.
type ProbeOptions struct {
	// URL to GET (default DefaultProbeURL).
	URL string
	// CAFile verifies the server's certificate against this CA (PEM);
	// empty: the system roots.
	CAFile string
	// InsecureSkipVerify accepts any server certificate, as the kubelet's
	// HTTPS probes do. Meant for a loopback health check inside the
	// container, where the certificate names the Service, not 127.0.0.1.
	InsecureSkipVerify bool
	// Timeout bounds the whole request (default 3 s).
	Timeout time.Duration
}

// Probe GETs a health URL of tollgate serve and returns nil when it answers
// 200. It is what the image's HEALTHCHECK runs: the image has no shell and
// no curl. A server that cannot be reached or answers otherwise is marked
// outcome.ErrFindings; a bad URL outcome.ErrUsage, an unreadable CA
// outcome.ErrUnreadable.
func Probe(ctx context.Context, o ProbeOptions) error {
	if o.URL == "" {
		o.URL = DefaultProbeURL
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return outcome.Usagef("probe URL %q: want http(s)://HOST:PORT/PATH", o.URL)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // opt-in for loopback probes
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return outcome.Unreadable(fmt.Errorf("reading the CA: %w", err))
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return outcome.Unreadable(fmt.Errorf("%s holds no PEM certificate", o.CAFile))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return outcome.Usagef("probe URL %q: %v", o.URL, err)
	}
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	resp, err := cl.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return unhealthy(fmt.Errorf("%s did not answer within %v", u.Redacted(), o.Timeout))
		}
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return unhealthy(fmt.Errorf("probing %s: %w", u.Redacted(), err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return unhealthy(fmt.Errorf("%s answered %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(body))))
	}
	return nil
}

// unhealthy marks a probe that ran and found the server not healthy: the
// "finding" of tollgate health (exit 1), unlike a bad URL or CA file.
func unhealthy(err error) error { return outcome.Mark(err, outcome.ErrFindings) }
