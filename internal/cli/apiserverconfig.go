package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/certs"
	"github.com/tollgate-dev/tollgate/internal/outcome"
)

func newAPIServerConfigCmd(_ *streams) *cobra.Command {
	var (
		o         certs.APIServerOptions
		kustomize string
	)
	cmd := &cobra.Command{
		Use:   "apiserver-config --dir DIR --url https://HOST:PORT",
		Short: "Write the AdmissionConfiguration, kubeconfigs and webhook configurations",
		Long: `Write, in --dir, with absolute paths inside:

  admission_configuration.yaml  AdmissionConfiguration v1 for --admission-control-config-file:
                                ImagePolicyWebhook (allowTTL, denyTTL, retryBackoff, defaultAllow),
                                ValidatingAdmissionWebhook and MutatingAdmissionWebhook using
                                webhook_kubeconfig.yaml
  connect_webhook.yaml          the ImagePolicyWebhook kubeconfig (CA, URL/image_policy, client pair)
  webhook_kubeconfig.yaml       the client pair the apiserver presents to tollgate's admission webhooks
  webhooks.yaml                 ValidatingWebhookConfiguration (failurePolicy Fail) and
                                MutatingWebhookConfiguration (failurePolicy Ignore), for kubectl apply

--url is tollgate's base URL as the apiserver reaches it; /image_policy,
/validate and /mutate are appended. The certificates come from tollgate certs
(--cert-dir, default --dir) and are checked before anything is written:
ca.pem must hold CA certificates only, the apiserver's client pair and
tollgate's serving pair must match and chain to that CA, and the serving
certificate must cover the --url host (and the --service name); else the
command exits 2 saying which file is wrong. Then start the apiserver with
  --enable-admission-plugins=...,ImagePolicyWebhook
  --admission-control-config-file=DIR/admission_configuration.yaml
and kubectl apply -f DIR/webhooks.yaml.`,
		Example: `  tollgate apiserver-config --dir ./pki --url https://127.0.0.1:8443
  tollgate apiserver-config --dir /etc/kubernetes/tollgate --url https://10.0.0.5:8443 \
      --service tollgate/tollgate:443 --default-allow=false --allow-ttl 30 --deny-ttl 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRanges(cmd,
				intRange{flag: "allow-ttl", lo: 1, hi: 1800, offOK: true},
				intRange{flag: "deny-ttl", lo: 1, hi: 1800, offOK: true},
				intRange{flag: "retry-backoff", lo: 1, hi: 300000, offOK: true},
				intRange{flag: "timeout", lo: 1, hi: 30},
			); err != nil {
				return err
			}
			files, err := certs.WriteAPIServerConfig(o)
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			if kustomize != "" {
				p, err := certs.WriteKustomizePatch(kustomize, o)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				files = append(files, p)
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "directory to write to")
	f.StringVar(&o.CertDir, "cert-dir", "", "directory holding ca.pem and apiserver-client*.pem (default --dir)")
	f.StringVar(&o.URL, "url", "", "tollgate's base URL, https://HOST:PORT")
	f.StringVar(&o.Service, "service", "", "use clientConfig.service NAMESPACE/NAME[:PORT] in webhooks.yaml instead of --url")
	f.IntVar(&o.AllowTTL, "allow-ttl", 50, "ImagePolicyWebhook: seconds an allow is cached (1-1800, -1 disables)")
	f.IntVar(&o.DenyTTL, "deny-ttl", 50, "ImagePolicyWebhook: seconds a denial is cached (1-1800, -1 disables)")
	f.IntVar(&o.RetryBackoff, "retry-backoff", 500, "ImagePolicyWebhook: first retry delay in milliseconds (1-300000, -1 for none)")
	f.BoolVar(&o.DefaultAllow, "default-allow", false, "ImagePolicyWebhook: admit pods when tollgate cannot be reached (fail open)")
	f.StringVar(&o.Namespace, "namespace", "tollgate", "tollgate's own namespace, skipped by the webhooks (as is kube-system)")
	f.IntVar(&o.TimeoutSeconds, "timeout", 5, "webhooks' timeoutSeconds (1-30)")
	f.StringVar(&kustomize, "kustomize", "", "also write "+certs.KustomizePatchFile+" (the webhooks' caBundle patch) into this kustomize directory, e.g. deploy/pki")
	cmd.MarkFlagRequired("dir")
	cmd.MarkFlagRequired("url")
	return cmd
}
