package certs

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
	"sigs.k8s.io/yaml"
)

// KustomizePatchFile is the patch WriteKustomizePatch writes: the CA
// bundle of both webhook configurations, for deploy/pki/kustomization.yaml.
const KustomizePatchFile = "webhook-cabundle.yaml"

// WriteKustomizePatch writes, in dir, a strategic-merge patch that sets the
// caBundle of tollgate's ValidatingWebhookConfiguration and
// MutatingWebhookConfiguration (the names and webhooks of webhooks.yaml and
// deploy/base) to the CA that WriteAPIServerConfig with o uses (ca.pem in
// o.CertDir, else o.Dir). The kustomize base leaves caBundle out, so that one base
// serves both this static CA and cert-manager's injection. It returns the
// path written.
func WriteKustomizePatch(dir string, o APIServerOptions) (string, error) {
	if dir == "" {
		return "", errors.New("no kustomize directory given")
	}
	certDir := o.CertDir
	if certDir == "" {
		certDir = o.Dir
	}
	caPath := filepath.Join(certDir, CAFile)
	caPEM, err := os.ReadFile(caPath)
	if err != nil {
		return "", fmt.Errorf("reading the CA (run tollgate certs first): %w", err)
	}
	if err := caBundleCheck(caPEM); err != nil {
		return "", fmt.Errorf("%s: %w", caPath, err)
	}
	bundle := base64.StdEncoding.EncodeToString(caPEM)
	var out []byte
	for i, c := range []struct{ kind, name, webhook string }{
		{"ValidatingWebhookConfiguration", ValidatingConfigName, ValidatingWebhook},
		{"MutatingWebhookConfiguration", MutatingConfigName, MutatingWebhook},
	} {
		b, err := yaml.Marshal(map[string]any{
			"apiVersion": "admissionregistration.k8s.io/v1",
			"kind":       c.kind,
			"metadata":   map[string]any{"name": c.name},
			"webhooks": []any{map[string]any{
				"name":         c.webhook,
				"clientConfig": map[string]any{"caBundle": bundle},
			}},
		})
		if err != nil {
			return "", fmt.Errorf("encoding %s: %w", KustomizePatchFile, err)
		}
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, b...)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	p := filepath.Join(dir, KustomizePatchFile)
	if err := renameio.WriteFile(p, out, 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	return p, nil
}

// caBundleCheck accepts PEM holding at least one CA certificate and
// nothing that is not a certificate: the apiserver would otherwise refuse
// the caBundle only when it first calls the webhook.
func caBundleCheck(b []byte) error {
	found := false
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a %s block, not only certificates", blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fmt.Errorf("parsing a certificate: %w", err)
		}
		found = found || c.IsCA
	}
	if !found {
		return errors.New("holds no CA certificate")
	}
	return nil
}
