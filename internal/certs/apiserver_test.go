package certs

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestWriteAPIServerConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		hosts  []string // of the serving certificate
		opts   APIServerOptions
		golden string
	}{
		{name: "url", hosts: []string{"127.0.0.1"}, opts: APIServerOptions{URL: "https://127.0.0.1:8443"}, golden: "url"},
		{name: "service", hosts: []string{"10.0.0.10", "tollgate.tollgate.svc"}, opts: APIServerOptions{URL: "https://10.0.0.10:8443/", Service: "tollgate/tollgate:8443",
			AllowTTL: 2, DenyTTL: -1, RetryBackoff: 100, DefaultAllow: true, Namespace: "tollgate-system", TimeoutSeconds: 3}, golden: "service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if _, err := Generate(Options{Dir: dir, Hosts: tt.hosts}); err != nil {
				t.Fatal(err)
			}
			tt.opts.Dir = dir
			files, err := WriteAPIServerConfig(tt.opts)
			if err != nil {
				t.Fatalf("WriteAPIServerConfig: %v", err)
			}
			wantFiles := []string{AdmissionConfigFile, ImagePolicyKubeconfig, WebhookKubeconfig, WebhooksFile}
			for i, f := range wantFiles {
				if files[i] != filepath.Join(dir, f) {
					t.Errorf("files[%d] = %s, want %s", i, files[i], filepath.Join(dir, f))
				}
			}
			ca, err := os.ReadFile(filepath.Join(dir, CAFile))
			if err != nil {
				t.Fatal(err)
			}
			caB64 := base64.StdEncoding.EncodeToString(ca)
			var all bytes.Buffer
			for _, f := range wantFiles {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				s := strings.ReplaceAll(string(b), dir, "$DIR")
				s = strings.ReplaceAll(s, caB64, "$CA_BUNDLE")
				all.WriteString("# " + f + "\n" + s)
			}
			golden := filepath.Join("testdata", tt.golden+".golden")
			if *update {
				if err := os.WriteFile(golden, all.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), all.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got), rerun with -update if intended:\n%s", golden, diff)
			}

			// webhooks.yaml decodes strictly into the real API types.
			hooks, _ := os.ReadFile(filepath.Join(dir, WebhooksFile))
			docs := strings.Split(string(hooks), "\n---\n")
			if len(docs) != 2 {
				t.Fatalf("webhooks.yaml has %d documents, want 2", len(docs))
			}
			var v admissionregistrationv1.ValidatingWebhookConfiguration
			if err := yaml.UnmarshalStrict([]byte(docs[0]), &v); err != nil {
				t.Fatalf("validating configuration: %v", err)
			}
			var m admissionregistrationv1.MutatingWebhookConfiguration
			if err := yaml.UnmarshalStrict([]byte(docs[1]), &m); err != nil {
				t.Fatalf("mutating configuration: %v", err)
			}
			if !bytes.Equal(v.Webhooks[0].ClientConfig.CABundle, ca) || !bytes.Equal(m.Webhooks[0].ClientConfig.CABundle, ca) {
				t.Error("caBundle is not ca.pem")
			}
			if *v.Webhooks[0].FailurePolicy != admissionregistrationv1.Fail || *m.Webhooks[0].FailurePolicy != admissionregistrationv1.Ignore ||
				*m.Webhooks[0].ReinvocationPolicy != admissionregistrationv1.IfNeededReinvocationPolicy {
				t.Error("failure or reinvocation policy wrong")
			}
		})
	}
}

func TestWriteAPIServerConfigErrors(t *testing.T) {
	t.Parallel()
	pki := t.TempDir()
	if _, err := Generate(Options{Dir: pki, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    APIServerOptions
		wantErr string
	}{
		{"no url", APIServerOptions{Dir: pki}, "no URL given"},
		{"http", APIServerOptions{Dir: pki, URL: "http://127.0.0.1:8443"}, "must be https://"},
		{"query", APIServerOptions{Dir: pki, URL: "https://127.0.0.1:8443/?a=b"}, "must be https://"},
		{"ttl", APIServerOptions{Dir: pki, URL: "https://h:1", AllowTTL: 5000}, "allow TTL 5000 is outside 1–1800"},
		{"backoff", APIServerOptions{Dir: pki, URL: "https://h:1", RetryBackoff: -2}, "retry backoff -2 is outside"},
		{"timeout", APIServerOptions{Dir: pki, URL: "https://h:1", TimeoutSeconds: 31}, "timeout 31 s is outside 1–30"},
		{"service", APIServerOptions{Dir: pki, URL: "https://h:1", Service: "tollgate"}, "must be NAMESPACE/NAME[:PORT]"},
		{"service port", APIServerOptions{Dir: pki, URL: "https://h:1", Service: "a/b:0"}, "is not 1–65535"},
		{"no certs", APIServerOptions{Dir: t.TempDir(), URL: "https://h:1"}, "run tollgate certs first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := WriteAPIServerConfig(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
