package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/webhook"
)

func newHealthCmd(_ *streams) *cobra.Command {
	var o webhook.ProbeOptions
	cmd := &cobra.Command{
		Use:   "health [--url URL] [--ca FILE | --insecure-skip-verify]",
		Short: "Probe a running tollgate serve (exit 0 when /healthz answers 200)",
		Long: `GET tollgate serve's /healthz (or --url) and exit 0 when it answers 200, 1
otherwise, with the reason on stderr. The container image has no shell and no
curl: its HEALTHCHECK runs this command against the server on loopback.`,
		Example: `  tollgate health --insecure-skip-verify
  tollgate health --url https://tollgate.example:8443/readyz --ca /etc/tollgate/ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := webhook.Probe(cmd.Context(), o); err != nil {
				code := ExitUsage
				if errors.Is(err, outcome.ErrFindings) {
					code = ExitFindings
				}
				return &ExitError{Code: code, Err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", webhook.DefaultProbeURL, "URL to probe")
	f.StringVar(&o.CAFile, "ca", "", "CA (PEM) that signs the server's certificate, e.g. ca.pem from tollgate certs")
	f.BoolVar(&o.InsecureSkipVerify, "insecure-skip-verify", false, "accept any server certificate (a loopback probe, like the kubelet's)")
	f.DurationVar(&o.Timeout, "timeout", 0, "how long to wait for the answer (default 3s)")
	cmd.MarkFlagsMutuallyExclusive("ca", "insecure-skip-verify")
	return cmd
}
