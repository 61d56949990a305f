package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParseCABundle: whatever ca.pem holds, the check returns a pool or an
// error in our words, never panics, and never accepts a file that is not
// only PEM certificates.
func FuzzParseCABundle(f *testing.F) {
	dir := f.TempDir()
	if _, err := Generate(Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{CAFile, ServerFile, CAKeyFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("\x00\x01 not pem"))
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		pool, err := parseCABundle("ca.pem", data, now)
		if err != nil {
			if pool != nil {
				t.Error("a pool with an error")
			}
			if msg := err.Error(); strings.Contains(msg, "x509:") || strings.Contains(msg, "asn1:") {
				t.Errorf("Go internals in %q", msg)
			}
			return
		}
		if !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----") {
			t.Errorf("accepted a file without a PEM certificate: %q", data)
		}
	})
}
