package cli

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/inflight"
	"github.com/tollgate-dev/tollgate/internal/kube"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/webhook"
)

func newServeCmd(s *streams) *cobra.Command {
	var (
		o             webhook.Options
		inflightBytes int64
		maxDocs       int
		ruleset       string
		logLevel      string
		logFormat     string
		g             gateFlags
	)
	cmd := &cobra.Command{
		Use:   "serve --tls-cert FILE --tls-key FILE [flags]",
		Short: "Serve admission webhooks for the kube-apiserver over HTTPS",
		Long: `Serve the kube-apiserver's admission calls over HTTPS (TLS 1.2+, HTTP/2):

  POST /image_policy   ImageReview (ImagePolicyWebhook plugin)
  POST /validate       AdmissionReview v1 (ValidatingAdmissionWebhook)
  POST /mutate         AdmissionReview v1 (MutatingAdmissionWebhook), JSON Patch
  POST /scan           kubesec-compatible scoring of manifests
  GET  /healthz, /readyz, /metrics (Prometheus)

Decisions follow --policy (default: deny images without a tag or with tag
latest); see docs/policy.md. The certificate, key, client CA and policy are
reloaded when they change on disk. With --client-ca, /image_policy requires a
verified client certificate (the apiserver presents the one in
connect_webhook.yaml); --require-client-cert=all requires it on every review
route. SIGTERM (or SIGINT) stops accepting connections and lets requests in
flight finish, then exits 0; a second signal exits at once (130/143). Request
bodies held at once are bounded by --max-inflight-bytes: past it, 429 with
Retry-After. Exit code 2 when the server cannot start (flags, certificate,
key, client CA, policy, address).

tollgate certs and tollgate apiserver-config write the files both sides need.`,
		Example: `  tollgate certs --dir /etc/tollgate --hosts tollgate.example,10.0.0.5
  tollgate serve --addr :8443 --tls-cert /etc/tollgate/webhook.pem --tls-key /etc/tollgate/webhook-key.pem \
      --client-ca /etc/tollgate/ca.pem --policy /etc/tollgate/policy.yaml`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotDrains: "yes"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRanges(cmd,
				intRange{flag: "max-admission-bytes", lo: 1},
				intRange{flag: "max-scan-bytes", lo: 1},
				intRange{flag: "max-inflight-bytes", lo: 1},
				intRange{flag: "max-documents", lo: 1},
				intRange{flag: "shutdown-timeout"},
				intRange{flag: "scan-budget"},
				intRange{flag: "scan-ttl"},
				intRange{flag: "max-scans", lo: 1, hi: 64},
			); err != nil {
				return err
			}
			if inflightBytes < max(o.MaxAdmissionBytes, o.MaxScanBytes) {
				return outcome.Usagef("--max-inflight-bytes %d is below the largest body allowed (%d): a request that size could never be served",
					inflightBytes, max(o.MaxAdmissionBytes, o.MaxScanBytes))
			}
			log, err := newServeLogger(s, logLevel, logFormat)
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			sc, err := kube.NewScanner(kube.Options{Ruleset: ruleset})
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			tuneGC()
			o.Inflight = inflight.New(inflightBytes)
			o.Scorer = policy.KubesecScorer{Scanner: sc}
			o.Scan = kube.NewHandler(sc, kube.HandlerOptions{MaxBodyBytes: o.MaxScanBytes, MaxDocuments: maxDocs, Inflight: o.Inflight})
			o.Logger = log
			closeGate, err := g.apply(cmd.Context(), &o, log)
			if err != nil {
				return err
			}
			defer closeGate()
			o.Listening = func(a net.Addr) {
				fmt.Fprintf(cmd.ErrOrStderr(), "tollgate serve: listening on https://%s\n", a)
			}
			// The context ends at the first SIGINT/SIGTERM (SignalContext):
			// Serve then drains; a second signal exits at once.
			if err := webhook.Serve(cmd.Context(), o); err != nil {
				// A server that cannot start (or stops on its own) exits 2.
				return outcome.Mark(err, outcome.ErrUsage)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8443", `listen address (in a cluster: ":8443")`)
	f.StringVar(&o.CertFile, "tls-cert", "", "serving certificate (PEM), e.g. webhook.pem from tollgate certs")
	f.StringVar(&o.KeyFile, "tls-key", "", "its private key (PEM), e.g. webhook-key.pem")
	f.StringVar(&o.ClientCAFile, "client-ca", "", "CA (PEM) that signs the apiserver's client certificate, e.g. ca.pem")
	f.StringVar(&o.RequireClientCert, "require-client-cert", "",
		`with --client-ca: "image-policy" (default) requires a client certificate on /image_policy, "all" on every review route`)
	f.StringVar(&o.PolicyFile, "policy", "", "policy file (default: the built-in policy)")
	f.Int64Var(&o.MaxAdmissionBytes, "max-admission-bytes", webhook.DefaultMaxAdmissionBytes, "largest ImageReview/AdmissionReview body (larger: 413)")
	f.Int64Var(&o.MaxScanBytes, "max-scan-bytes", webhook.DefaultMaxScanBytes, "largest /scan body (larger: 413)")
	f.Int64Var(&inflightBytes, "max-inflight-bytes", webhook.DefaultMaxInflightBytes, "request bytes held at once over all routes (more: 429 with Retry-After, which the apiserver retries)")
	f.IntVar(&maxDocs, "max-documents", kube.DefaultMaxDocuments, "most documents in one /scan request (more: 413)")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", webhook.DefaultShutdownTimeout, "how long requests in flight may take after SIGTERM (a second signal stops at once)")
	f.StringVar(&ruleset, "ruleset", kube.RulesetDefault, `kubesec rule set for scores and /scan: "default" or "extended"`)
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	g.register(f)
	cmd.MarkFlagRequired("tls-cert")
	cmd.MarkFlagRequired("tls-key")
	return cmd
}

// newServeLogger builds the server's structured logger on stderr.
func newServeLogger(s *streams, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(s.err, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(s.err, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
