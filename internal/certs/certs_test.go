package certs

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	res, err := Generate(Options{Dir: dir, Hosts: []string{"tollgate.tollgate.svc", "localhost", "127.0.0.1", "::1"}, Days: 30,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if res.ReusedCA {
		t.Error("ReusedCA on an empty directory")
	}
	want := []string{CAKeyFile, CAFile, ServerKeyFile, ServerFile, ClientKeyFile, ClientFile}
	if len(res.Files) != len(want) {
		t.Fatalf("Files = %v, want %v", res.Files, want)
	}
	for i, name := range want {
		if res.Files[i] != filepath.Join(dir, name) || !filepath.IsAbs(res.Files[i]) {
			t.Errorf("Files[%d] = %s, want %s", i, res.Files[i], filepath.Join(dir, name))
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		wantPerm := os.FileMode(0o644)
		if strings.HasSuffix(name, "-key.pem") {
			wantPerm = 0o600
		}
		if fi.Mode().Perm() != wantPerm {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), wantPerm)
		}
	}
	ca := readCert(t, filepath.Join(dir, CAFile))
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA: IsCA=%v KeyUsage=%v", ca.IsCA, ca.KeyUsage)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	server := readCert(t, filepath.Join(dir, ServerFile))
	for _, host := range []string{"tollgate.tollgate.svc", "localhost", "127.0.0.1", "::1"} {
		if _, err := server.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, CurrentTime: now}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := server.Verify(x509.VerifyOptions{DNSName: "evil.example", Roots: pool, CurrentTime: now}); err == nil {
		t.Error("server certificate verifies for a host not in --hosts")
	}
	if got, want := server.NotAfter.Sub(now), 30*24*time.Hour; got != want {
		t.Errorf("server certificate valid for %v after now, want %v", got, want)
	}
	if _, err := server.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now.Add(31 * 24 * time.Hour)}); err == nil {
		t.Error("server certificate still valid after 31 days")
	}
	client := readCert(t, filepath.Join(dir, ClientFile))
	if _, err := client.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	// The server certificate must not pass as a client certificate, nor
	// the client certificate as a server's.
	if _, err := server.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("server certificate verifies for client auth")
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now}); err == nil {
		t.Error("client certificate verifies for server auth")
	}
	if len(server.IPAddresses) != 2 || !server.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Errorf("server IP SANs = %v", server.IPAddresses)
	}

	// A second run keeps the CA and reissues the leaves.
	res2, err := Generate(Options{Dir: dir, Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatalf("second Generate: %v", err)
	}
	if !res2.ReusedCA || len(res2.Files) != 4 {
		t.Errorf("second Generate: ReusedCA=%v Files=%v, want the CA kept and 4 files", res2.ReusedCA, res2.Files)
	}
	if !readCert(t, filepath.Join(dir, CAFile)).Equal(ca) {
		t.Error("CA changed on reissue")
	}
	server2 := readCert(t, filepath.Join(dir, ServerFile))
	if server2.SerialNumber.Cmp(server.SerialNumber) == 0 {
		t.Error("server certificate not reissued")
	}
	if _, err := server2.Verify(x509.VerifyOptions{DNSName: "127.0.0.1", Roots: pool}); err != nil {
		t.Errorf("reissued server certificate under the kept CA: %v", err)
	}
	// NewCA replaces it.
	if _, err := Generate(Options{Dir: dir, Hosts: []string{"127.0.0.1"}, NewCA: true}); err != nil {
		t.Fatal(err)
	}
	if readCert(t, filepath.Join(dir, CAFile)).Equal(ca) {
		t.Error("NewCA kept the old CA")
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	mismatched := t.TempDir()
	if _, err := Generate(Options{Dir: mismatched, Hosts: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := Generate(Options{Dir: other, Hosts: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	otherKey, _ := os.ReadFile(filepath.Join(other, CAKeyFile))
	if err := os.WriteFile(filepath.Join(mismatched, CAKeyFile), otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	expired := t.TempDir()
	if _, err := Generate(Options{Dir: expired, Hosts: []string{"a"}, Days: 1}); err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(11 * 24 * time.Hour) } // past the CA's 10 days
	keyless := t.TempDir()
	if _, err := Generate(Options{Dir: keyless, Hosts: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(keyless, CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	garbage := t.TempDir()
	if _, err := Generate(Options{Dir: garbage, Hosts: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(garbage, CAFile), []byte("\x00\x01 random"), 0o644)
	leafCA := t.TempDir()
	if _, err := Generate(Options{Dir: leafCA, Hosts: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	leaf, _ := os.ReadFile(filepath.Join(leafCA, ServerFile))
	os.WriteFile(filepath.Join(leafCA, CAFile), leaf, 0o644)
	badKey := t.TempDir()
	if _, err := Generate(Options{Dir: badKey, Hosts: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(badKey, CAKeyFile), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no dir", Options{Hosts: []string{"a"}}, "no directory given"},
		{"garbage CA", Options{Dir: garbage, Hosts: []string{"a"}}, "ca.pem holds no PEM certificate"},
		{"leaf as CA", Options{Dir: leafCA, Hosts: []string{"a"}}, "ca.pem is not a CA certificate"},
		{"CA key does not parse", Options{Dir: badKey, Hosts: []string{"a"}}, "ca-key.pem does not parse as a private key"},
		{"no hosts", Options{Dir: t.TempDir()}, "no hosts given"},
		{"bad host", Options{Dir: t.TempDir(), Hosts: []string{"a b"}}, `host "a b" is neither`},
		{"bad host label", Options{Dir: t.TempDir(), Hosts: []string{"-a.example"}}, "is neither"},
		{"days", Options{Dir: t.TempDir(), Hosts: []string{"a"}, Days: 5000}, "days 5000 is outside"},
		{"mismatched CA", Options{Dir: mismatched, Hosts: []string{"a"}}, "ca-key.pem does not match ca.pem"},
		{"CA without key", Options{Dir: keyless, Hosts: []string{"a"}}, "is incomplete: ca.pem or ca-key.pem is missing"},
		{"expired CA", Options{Dir: expired, Hosts: []string{"a"}, Now: later}, "expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Generate(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Generate error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
