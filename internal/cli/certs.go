package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/certs"
	"github.com/tollgate-dev/tollgate/internal/outcome"
)

func newCertsCmd(_ *streams) *cobra.Command {
	var o certs.Options
	cmd := &cobra.Command{
		Use:   "certs --dir DIR --hosts HOST[,HOST...]",
		Short: "Write the CA, tollgate's server pair and the apiserver's client pair",
		Long: `Write, in --dir:

  ca.pem, ca-key.pem                              the self-signed CA (ECDSA P-256)
  webhook.pem, webhook-key.pem                    tollgate's serving pair, SANs from --hosts
  apiserver-client.pem, apiserver-client-key.pem  the pair the kube-apiserver presents

Keys are written 0600. An existing CA in --dir is kept and only the two leaf
pairs are reissued, so the apiserver's caBundle stays valid and a running
tollgate serve picks up the new pair without a restart; --new-ca replaces it.
--hosts must include the host the apiserver dials (the --url of
apiserver-config), and for a Service NAME.NAMESPACE.svc.`,
		Example: `  tollgate certs --dir ./pki --hosts 127.0.0.1,localhost
  tollgate certs --dir ./pki --hosts tollgate.tollgate.svc,tollgate.example --days 90`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRanges(cmd, intRange{flag: "days", lo: 1, hi: 3650}); err != nil {
				return err
			}
			res, err := certs.Generate(o)
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			if res.ReusedCA {
				fmt.Fprintln(cmd.ErrOrStderr(), "tollgate certs: kept the existing CA, reissued the leaf certificates")
			}
			for _, f := range res.Files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "directory to write to (created 0700 when missing)")
	f.StringSliceVar(&o.Hosts, "hosts", nil, "DNS names and IP addresses for the server certificate (comma-separated)")
	f.IntVar(&o.Days, "days", 365, "validity of the leaf certificates in days, 1–3650 (the CA: ten times as long)")
	f.BoolVar(&o.NewCA, "new-ca", false, "replace an existing CA (the apiserver files must then be regenerated)")
	cmd.MarkFlagRequired("dir")
	cmd.MarkFlagRequired("hosts")
	return cmd
}
