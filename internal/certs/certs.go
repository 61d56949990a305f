// Package certs writes the files that connect a kube-apiserver to tollgate:
// a CA, tollgate's serving certificate, the client certificate the
// apiserver presents (Generate), and the AdmissionConfiguration, the two
// kubeconfigs and the webhook configurations that use them
// (WriteAPIServerConfig). File names are fixed (see the constants) so that
// the two steps, and an administrator, find each other's files.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// The files Generate writes, in Dir.
const (
	CAFile           = "ca.pem"
	CAKeyFile        = "ca-key.pem"
	ServerFile       = "webhook.pem"
	ServerKeyFile    = "webhook-key.pem"
	ClientFile       = "apiserver-client.pem"
	ClientKeyFile    = "apiserver-client-key.pem"
	clientCommonName = "tollgate-apiserver-client"
)

// Options configure Generate.
type Options struct {
	// Dir receives the files; it is created (0700) when missing.
	Dir string
	// Hosts are the server certificate's subject alternative names: IP
	// addresses and DNS names (a wildcard "*.example.com" is allowed).
	// Clients check the host they dial against them, so include the host
	// of the URL the apiserver uses.
	Hosts []string
	// Days is the validity of the leaf certificates (default 365). The CA
	// gets ten times as long, so that leaves can be renewed under it.
	Days int
	// NewCA replaces an existing CA; by default a CA found in Dir is kept
	// and only the leaf certificates are reissued (a rotation that leaves
	// the apiserver's caBundle valid).
	NewCA bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Result reports what Generate did.
type Result struct {
	// Files are the absolute paths written.
	Files []string
	// ReusedCA is set when an existing CA signed the new leaves.
	ReusedCA bool
}

// Generate writes the CA, server and apiserver-client pairs into
// opts.Dir. Keys are ECDSA P-256 in PKCS #8, written 0600; certificates
// 0644. Each file is replaced atomically, key before certificate, so a
// server watching the directory never loads a mismatched pair for long.
func Generate(opts Options) (Result, error) {
	if opts.Dir == "" {
		return Result{}, errors.New("no directory given")
	}
	if len(opts.Hosts) == 0 {
		return Result{}, errors.New("no hosts given for the server certificate")
	}
	if opts.Days == 0 {
		opts.Days = 365
	}
	if opts.Days < 0 || opts.Days > 3650 {
		return Result{}, fmt.Errorf("days %d is outside 1–3650", opts.Days)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var dnsNames []string
	var ips []net.IP
	for _, h := range opts.Hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if !validDNSName(h) {
			return Result{}, fmt.Errorf("host %q is neither an IP address nor a DNS name", h)
		}
		dnsNames = append(dnsNames, h)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return Result{}, fmt.Errorf("resolving %s: %w", opts.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("creating %s: %w", dir, err)
	}
	start := now().Add(-time.Hour) // tolerate clock skew between hosts
	leafEnd := start.Add(time.Duration(opts.Days)*24*time.Hour + time.Hour)

	var res Result
	write := func(name string, data []byte, perm os.FileMode) error {
		p := filepath.Join(dir, name)
		if err := renameio.WriteFile(p, data, perm); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		res.Files = append(res.Files, p)
		return nil
	}

	caCert, caKey, err := loadCA(dir)
	if err == nil && !opts.NewCA && !now().Before(caCert.NotAfter) {
		// Leaves are cut to the CA's validity: under an expired CA they
		// would be born expired.
		return Result{}, fmt.Errorf("the CA in %s expired on %s: replace it with a new CA", dir, caCert.NotAfter.UTC().Format(time.DateOnly))
	}
	switch {
	case err == nil && !opts.NewCA:
		res.ReusedCA = true
	case opts.NewCA || errors.Is(err, os.ErrNotExist) && !exists(filepath.Join(dir, CAFile)) && !exists(filepath.Join(dir, CAKeyFile)):
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Result{}, fmt.Errorf("generating CA key: %w", err)
		}
		caKey = key
		tmpl := &x509.Certificate{
			Subject:               pkix.Name{CommonName: "tollgate-ca", Organization: []string{"tollgate"}},
			NotBefore:             start,
			NotAfter:              start.Add(time.Duration(opts.Days*10)*24*time.Hour + time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
			MaxPathLenZero:        true,
		}
		der, err := sign(tmpl, &key.PublicKey, nil, key)
		if err != nil {
			return Result{}, fmt.Errorf("signing CA: %w", err)
		}
		if caCert, err = x509.ParseCertificate(der); err != nil {
			return Result{}, fmt.Errorf("parsing CA: %w", err)
		}
		if err := writePair(write, CAFile, CAKeyFile, der, key); err != nil {
			return Result{}, err
		}
	case errors.Is(err, os.ErrNotExist):
		return Result{}, fmt.Errorf("the CA in %s is incomplete: %s or %s is missing (restore it, or use a new CA to replace it)", dir, CAFile, CAKeyFile)
	default:
		return Result{}, fmt.Errorf("existing CA in %s: %w (use a new CA to replace it)", dir, err)
	}

	leaves := []struct {
		cert, key string
		tmpl      *x509.Certificate
	}{
		{ServerFile, ServerKeyFile, &x509.Certificate{
			Subject:     pkix.Name{CommonName: firstOr(dnsNames, "tollgate-webhook"), Organization: []string{"tollgate"}},
			DNSNames:    dnsNames,
			IPAddresses: ips,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}},
		{ClientFile, ClientKeyFile, &x509.Certificate{
			Subject:     pkix.Name{CommonName: clientCommonName, Organization: []string{"tollgate"}},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}},
	}
	for _, l := range leaves {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Result{}, fmt.Errorf("generating key for %s: %w", l.cert, err)
		}
		l.tmpl.NotBefore = start
		l.tmpl.NotAfter = leafEnd
		if l.tmpl.NotAfter.After(caCert.NotAfter) {
			l.tmpl.NotAfter = caCert.NotAfter
		}
		l.tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		l.tmpl.BasicConstraintsValid = true
		der, err := sign(l.tmpl, &key.PublicKey, caCert, caKey)
		if err != nil {
			return Result{}, fmt.Errorf("signing %s: %w", l.cert, err)
		}
		if err := writePair(write, l.cert, l.key, der, key); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

func sign(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, key crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
}

// writePair writes the key (0600) then the certificate (0644).
func writePair(write func(string, []byte, os.FileMode) error, certName, keyName string, der []byte, key *ecdsa.PrivateKey) error {
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", keyName, err)
	}
	if err := write(keyName, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}), 0o600); err != nil {
		return err
	}
	return write(certName, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// loadCA reads an existing CA pair from dir.
func loadCA(dir string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%s holds no PEM certificate", CAFile)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s does not parse as an X.509 certificate", CAFile)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, nil, fmt.Errorf("%s is not a CA certificate", CAFile)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, fmt.Errorf("%s holds no PEM key", CAKeyFile)
	}
	var key any
	switch kb.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		return nil, nil, fmt.Errorf("%s holds a %q, not a private key", CAKeyFile, kb.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s does not parse as a %s", CAKeyFile, strings.ToLower(kb.Type))
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s is not a signing key", CAKeyFile)
	}
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return nil, nil, fmt.Errorf("%s does not match %s", CAKeyFile, CAFile)
	}
	return cert, signer, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// validDNSName accepts RFC 1123 host names, optionally with a leading "*.".
func validDNSName(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
