package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyFile copies src to dst within the test.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestWriteAPIServerConfigRefusesBrokenCerts: every file the apiserver
// would be configured with is checked first; a broken one is an error
// naming the file, and nothing is written.
func TestWriteAPIServerConfigRefusesBrokenCerts(t *testing.T) {
	t.Parallel()
	foreign := t.TempDir() // another CA and its pairs
	if _, err := Generate(Options{Dir: foreign, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		url     string
		service string
		now     time.Time // zero: time.Now
		breakIt func(t *testing.T, pki string)
		wantErr string
	}{
		{name: "random bytes in ca.pem", breakIt: func(t *testing.T, pki string) {
			os.WriteFile(filepath.Join(pki, CAFile), []byte("\x8f\x01garbage\x00not a certificate"), 0o644)
		}, wantErr: "ca.pem holds no PEM certificate"},
		{name: "empty ca.pem", breakIt: func(t *testing.T, pki string) {
			os.WriteFile(filepath.Join(pki, CAFile), nil, 0o644)
		}, wantErr: "ca.pem holds no PEM certificate"},
		{name: "PEM block that is not X.509", breakIt: func(t *testing.T, pki string) {
			os.WriteFile(filepath.Join(pki, CAFile), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
		}, wantErr: "certificate 1 does not parse as X.509"},
		{name: "a leaf as ca.pem", breakIt: func(t *testing.T, pki string) {
			copyFile(t, filepath.Join(pki, ServerFile), filepath.Join(pki, CAFile))
		}, wantErr: "is not a CA certificate"},
		{name: "a key in ca.pem", breakIt: func(t *testing.T, pki string) {
			copyFile(t, filepath.Join(pki, CAKeyFile), filepath.Join(pki, CAFile))
		}, wantErr: `PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`},
		{name: "garbage after the CA", breakIt: func(t *testing.T, pki string) {
			f, _ := os.OpenFile(filepath.Join(pki, CAFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("trailing junk\n")
			f.Close()
		}, wantErr: "holds data after its certificates that is not PEM"},
		{name: "foreign client pair", breakIt: func(t *testing.T, pki string) {
			copyFile(t, filepath.Join(foreign, ClientFile), filepath.Join(pki, ClientFile))
			copyFile(t, filepath.Join(foreign, ClientKeyFile), filepath.Join(pki, ClientKeyFile))
		}, wantErr: "apiserver-client.pem is not signed by the CA in ca.pem"},
		{name: "client key of another pair", breakIt: func(t *testing.T, pki string) {
			copyFile(t, filepath.Join(pki, ServerKeyFile), filepath.Join(pki, ClientKeyFile))
		}, wantErr: "apiserver-client-key.pem are not a pair: the key does not belong to the certificate"},
		{name: "server pair as client pair", breakIt: func(t *testing.T, pki string) {
			copyFile(t, filepath.Join(pki, ServerFile), filepath.Join(pki, ClientFile))
			copyFile(t, filepath.Join(pki, ServerKeyFile), filepath.Join(pki, ClientKeyFile))
		}, wantErr: "apiserver-client.pem may not be used for client authentication"},
		{name: "foreign server certificate", breakIt: func(t *testing.T, pki string) {
			copyFile(t, filepath.Join(foreign, ServerFile), filepath.Join(pki, ServerFile))
			copyFile(t, filepath.Join(foreign, ServerKeyFile), filepath.Join(pki, ServerKeyFile))
		}, wantErr: "webhook.pem is not signed by the CA in ca.pem"},
		{name: "no serving certificate", breakIt: func(t *testing.T, pki string) {
			os.Remove(filepath.Join(pki, ServerFile))
		}, wantErr: "webhook.pem does not exist (tollgate's serving pair; run tollgate certs first)"},
		{name: "URL host not covered", url: "https://10.0.0.5:8443",
			wantErr: "webhook.pem does not cover 10.0.0.5, which the apiserver dials (it covers tollgate.example, 127.0.0.1)"},
		{name: "URL name not covered", url: "https://other.example:8443", wantErr: "does not cover other.example"},
		{name: "Service not covered", service: "tollgate/tollgate", wantErr: "does not cover tollgate.tollgate.svc"},
		{name: "expired", now: time.Now().Add(20 * 24 * time.Hour), wantErr: "expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := t.TempDir()
			if _, err := Generate(Options{Dir: pki, Hosts: []string{"tollgate.example", "127.0.0.1"}, Days: 1}); err != nil {
				t.Fatal(err)
			}
			if tt.breakIt != nil {
				tt.breakIt(t, pki)
			}
			if tt.url == "" {
				tt.url = "https://127.0.0.1:8443"
			}
			out := filepath.Join(t.TempDir(), "out")
			o := APIServerOptions{Dir: out, CertDir: pki, URL: tt.url, Service: tt.service}
			if !tt.now.IsZero() {
				o.Now = func() time.Time { return tt.now }
			}
			_, err := WriteAPIServerConfig(o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "tls:") {
				t.Errorf("Go internals in %q", err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was created although the certificates were refused", out)
			}
		})
	}
}

// TestWriteAPIServerConfigCoveredHosts: the checks accept what certs
// writes for the URL host and the Service name, wildcards included.
func TestWriteAPIServerConfigCoveredHosts(t *testing.T) {
	t.Parallel()
	pki := t.TempDir()
	if _, err := Generate(Options{Dir: pki, Hosts: []string{"*.example.org", "10.0.0.5", "tollgate.tollgate.svc"}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []APIServerOptions{
		{URL: "https://10.0.0.5:8443"},
		{URL: "https://gate.example.org"},
		{URL: "https://10.0.0.5:8443", Service: "tollgate/tollgate:443"},
	} {
		o.Dir, o.CertDir = t.TempDir(), pki
		if _, err := WriteAPIServerConfig(o); err != nil {
			t.Errorf("%s %s: %v", o.URL, o.Service, err)
		}
	}
}
