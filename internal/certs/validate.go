package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// bundle is what WriteAPIServerConfig checked in the certificate
// directory before writing anything that refers to it.
type bundle struct {
	caPEM []byte // ca.pem as read: it becomes caBundle
}

// checkBundle validates the files of certDir that the apiserver's
// configuration names or embeds, so that a configuration that would make
// the apiserver refuse every request (with failurePolicy Fail) is never
// written: ca.pem holds CA certificates only; the apiserver's client pair
// matches and chains to the CA for client authentication; tollgate's
// serving certificate chains to the CA for server authentication and
// covers every host the apiserver dials.
func checkBundle(certDir string, hosts []string, now time.Time) (*bundle, error) {
	caPath := filepath.Join(certDir, CAFile)
	caPEM, err := readFile(caPath)
	if err != nil {
		return nil, fmt.Errorf("%w (the CA; run tollgate certs first)", err)
	}
	roots, err := parseCABundle(caPath, caPEM, now)
	if err != nil {
		return nil, err
	}
	client, err := loadPair(filepath.Join(certDir, ClientFile), filepath.Join(certDir, ClientKeyFile), "the apiserver's client pair")
	if err != nil {
		return nil, err
	}
	if err := chains(client, roots, x509.ExtKeyUsageClientAuth, ClientFile, now); err != nil {
		return nil, err
	}
	server, err := loadPair(filepath.Join(certDir, ServerFile), filepath.Join(certDir, ServerKeyFile), "tollgate's serving pair")
	if err != nil {
		return nil, err
	}
	if err := chains(server, roots, x509.ExtKeyUsageServerAuth, ServerFile, now); err != nil {
		return nil, err
	}
	for _, h := range hosts {
		if err := server.VerifyHostname(h); err != nil {
			return nil, fmt.Errorf("%s does not cover %s, which the apiserver dials (it covers %s): reissue it with tollgate certs --hosts including %s",
				ServerFile, h, covered(server), h)
		}
	}
	return &bundle{caPEM: caPEM}, nil
}

// parseCABundle checks that data is one or more PEM certificates, each a
// CA that may sign certificates and is valid now, and nothing else: the
// apiserver would take anything else in caBundle as no CA at all.
func parseCABundle(path string, data []byte, now time.Time) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	rest := data
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: PEM block %d is a %q, not a CERTIFICATE: the file must hold the CA certificate only", path, n, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d does not parse as X.509", path, n)
		}
		if !c.BasicConstraintsValid || !c.IsCA {
			return nil, fmt.Errorf("%s: certificate %d (%s) is not a CA certificate (basic constraints say it is not)", path, n, c.Subject.CommonName)
		}
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return nil, fmt.Errorf("%s: certificate %d (%s) may not sign certificates (its key usage lacks certificate signing)", path, n, c.Subject.CommonName)
		}
		if err := validAt(c, now); err != nil {
			return nil, fmt.Errorf("%s: certificate %d (%s) %v", path, n, c.Subject.CommonName, err)
		}
		pool.AddCert(c)
	}
	switch {
	case len(rest) == len(data):
		// Empty, or nothing PEM at all: an empty caBundle trusts nothing.
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	case len(bytes.TrimSpace(rest)) > 0:
		return nil, fmt.Errorf("%s holds data after its certificates that is not PEM", path)
	}
	return pool, nil
}

// loadPair reads a certificate and its key for checkBundle.
func loadPair(certPath, keyPath, what string) (*x509.Certificate, error) {
	pair, err := LoadPair(certPath, keyPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (%s; run tollgate certs first)", err, what)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return pair.Leaf, nil
}

// LoadPair reads a PEM certificate and its PEM private key and checks that
// they belong together. Its errors name the files and the problem in our
// words (no "tls:" or "x509:" internals); a missing file is os.ErrNotExist.
func LoadPair(certPath, keyPath string) (tls.Certificate, error) {
	certPEM, err := readFile(certPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readFile(keyPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s and %s are not a pair: %s", certPath, keyPath, pairProblem(err))
	}
	return pair, nil
}

// notExist is the error of a missing file: "PATH does not exist", and
// errors.Is(err, os.ErrNotExist).
type notExist string

func (e notExist) Error() string        { return string(e) + " does not exist" }
func (e notExist) Is(target error) bool { return target == os.ErrNotExist }

// readFile reads path; its errors say what is wrong with the file.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, notExist(path)
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("%s cannot be read: permission denied", path)
	}
	return nil, fmt.Errorf("reading %s: %w", path, err)
}

// pairProblem words the errors of tls.X509KeyPair.
func pairProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not match"):
		return "the key does not belong to the certificate"
	case strings.Contains(msg, "failed to find any PEM data in certificate"), strings.Contains(msg, "failed to find \"CERTIFICATE\""):
		return "the certificate file holds no PEM certificate"
	case strings.Contains(msg, "failed to find any PEM data in key"), strings.Contains(msg, "failed to find PEM block with type ending in \"PRIVATE KEY\""):
		return "the key file holds no PEM private key"
	case strings.Contains(msg, "failed to parse private key"), strings.Contains(msg, "unknown private key type"):
		return "the private key does not parse"
	}
	return "the certificate or the key does not parse"
}

// chains checks that leaf verifies against roots for usage now.
func chains(leaf *x509.Certificate, roots *x509.CertPool, usage x509.ExtKeyUsage, file string, now time.Time) error {
	if err := validAt(leaf, now); err != nil {
		return fmt.Errorf("%s %v", file, err)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: now})
	var inv x509.CertificateInvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		purpose := "client"
		if usage == x509.ExtKeyUsageServerAuth {
			purpose = "server"
		}
		return fmt.Errorf("%s may not be used for %s authentication (its extended key usage)", file, purpose)
	}
	return fmt.Errorf("%s is not signed by the CA in %s: regenerate the pairs with tollgate certs", file, CAFile)
}

// validAt says why c is not valid at now, or nil.
func validAt(c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return fmt.Errorf("is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		return fmt.Errorf("expired on %s", c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// covered lists the names and addresses a serving certificate is for.
func covered(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no host"
	}
	return strings.Join(names, ", ")
}
