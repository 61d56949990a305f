package certs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

func TestWriteKustomizePatch(t *testing.T) {
	t.Parallel()
	certDir := t.TempDir()
	if _, err := Generate(Options{Dir: certDir, Hosts: []string{"tollgate.tollgate.svc"}}); err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(certDir, CAFile))
	out := filepath.Join(t.TempDir(), "pki")
	p, err := WriteKustomizePatch(out, APIServerOptions{Dir: t.TempDir(), CertDir: certDir})
	if err != nil {
		t.Fatalf("WriteKustomizePatch: %v", err)
	}
	if p != filepath.Join(out, KustomizePatchFile) {
		t.Errorf("wrote %s", p)
	}
	b, _ := os.ReadFile(p)
	docs := strings.Split(string(b), "---\n")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want the validating and the mutating patch:\n%s", len(docs), b)
	}
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	var m admissionregistrationv1.MutatingWebhookConfiguration
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &v); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &m); err != nil {
		t.Fatal(err)
	}
	if v.Kind != "ValidatingWebhookConfiguration" || v.Name != ValidatingConfigName || len(v.Webhooks) != 1 || v.Webhooks[0].Name != ValidatingWebhook {
		t.Errorf("validating patch targets %s %s %+v", v.Kind, v.Name, v.Webhooks)
	}
	if m.Kind != "MutatingWebhookConfiguration" || m.Name != MutatingConfigName || len(m.Webhooks) != 1 || m.Webhooks[0].Name != MutatingWebhook {
		t.Errorf("mutating patch targets %s %s %+v", m.Kind, m.Name, m.Webhooks)
	}
	for _, got := range [][]byte{v.Webhooks[0].ClientConfig.CABundle, m.Webhooks[0].ClientConfig.CABundle} {
		if !bytes.Equal(got, caPEM) {
			t.Errorf("caBundle is not ca.pem:\n%s", got)
		}
	}
	if v.Webhooks[0].ClientConfig.Service != nil || v.Webhooks[0].ClientConfig.URL != nil || v.Webhooks[0].FailurePolicy != nil {
		t.Error("the patch sets more than the caBundle")
	}
}

func TestWriteKustomizePatchErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notCA := filepath.Join(dir, "notca")
	os.MkdirAll(notCA, 0o755)
	gen := t.TempDir()
	Generate(Options{Dir: gen, Hosts: []string{"x"}})
	leaf, _ := os.ReadFile(filepath.Join(gen, ServerFile))
	os.WriteFile(filepath.Join(notCA, CAFile), leaf, 0o644)
	garbage := filepath.Join(dir, "garbage")
	os.MkdirAll(garbage, 0o755)
	key, _ := os.ReadFile(filepath.Join(gen, CAKeyFile))
	os.WriteFile(filepath.Join(garbage, CAFile), key, 0o644)
	for _, tc := range []struct {
		name, dir string
		o         APIServerOptions
		want      string
	}{
		{"no directory", "", APIServerOptions{Dir: gen}, "no kustomize directory given"},
		{"no CA", dir, APIServerOptions{Dir: filepath.Join(dir, "missing")}, "run tollgate certs first"},
		{"a leaf, not a CA", dir, APIServerOptions{Dir: notCA}, "holds no CA certificate"},
		{"a key", dir, APIServerOptions{Dir: garbage}, "holds a PRIVATE KEY block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WriteKustomizePatch(tc.dir, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, KustomizePatchFile)); err == nil {
		t.Error("a failed run wrote the patch")
	}
}
