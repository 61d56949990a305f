package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	sigsig "github.com/sigstore/sigstore/pkg/signature"
)

// Key is a public key that signatures are checked against.
type Key struct {
	// Name identifies the key in reports: the file it came from, as given,
	// with the block number when the file holds several.
	Name string
	// ID is "sha256:" and the hex SHA-256 of the key's PKIX DER encoding,
	// the same for the key wherever it is stored.
	ID string
	// Algorithm is the key type: "ecdsa-p256", "ecdsa-p384", "ecdsa-p521",
	// "ed25519" or "rsa-2048" (any RSA size).
	Algorithm string
	// Public is the key itself.
	Public crypto.PublicKey

	verifiers []sigsig.Verifier
}

// LoadKeys reads the public keys in a PEM file (cosign.pub): every
// "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY" (PKCS #1) block.
func LoadKeys(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	return ParseKeys(b, path)
}

// ParseKeys parses the public keys in PEM data; name names them in reports.
func ParseKeys(data []byte, name string) ([]Key, error) {
	var keys []Key
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var pub crypto.PublicKey
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
			return nil, fmt.Errorf("%s: block %d is a private key; verification needs the public key (cosign.pub)", name, n)
		default:
			continue // certificates and other blocks are not keys to trust
		}
		if err != nil {
			return nil, fmt.Errorf("%s: block %d is not a valid public key: %w", name, n, err)
		}
		k, err := NewKey(pub, name)
		if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", name, n, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no PEM public key found (want a PUBLIC KEY block, as in cosign.pub)", name)
	}
	if len(keys) > 1 {
		for i := range keys {
			keys[i].Name = fmt.Sprintf("%s#%d", name, i+1)
		}
	}
	return keys, nil
}

// NewKey wraps a public key (ECDSA P-256/P-384/P-521, Ed25519 or RSA of at
// least 2048 bits) for verification.
func NewKey(pub crypto.PublicKey, name string) (Key, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Key{}, fmt.Errorf("unsupported public key: %w", err)
	}
	sum := sha256.Sum256(der)
	k := Key{Name: name, ID: "sha256:" + hex.EncodeToString(sum[:]), Public: pub}
	// Each key type is tried with every scheme a cosign signer uses for it:
	// cosign signs ECDSA with SHA-256 (older releases even on P-384) or the
	// curve's own hash, Ed25519 pure (DSSE) or pre-hashed (cosign 2's legacy
	// signatures), RSA with PKCS #1 v1.5 or PSS. All of them are sound; the
	// signer picks one, the key decides who can have made it.
	var vs []sigsig.Verifier
	add := func(v sigsig.Verifier, err error) {
		if err == nil {
			vs = append(vs, v)
		}
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			k.Algorithm = "ecdsa-p256"
			add(sigsig.LoadECDSAVerifier(p, crypto.SHA256))
		case elliptic.P384():
			k.Algorithm = "ecdsa-p384"
			add(sigsig.LoadECDSAVerifier(p, crypto.SHA384))
			add(sigsig.LoadECDSAVerifier(p, crypto.SHA256))
		case elliptic.P521():
			k.Algorithm = "ecdsa-p521"
			add(sigsig.LoadECDSAVerifier(p, crypto.SHA512))
			add(sigsig.LoadECDSAVerifier(p, crypto.SHA256))
		default:
			return Key{}, errors.New("unsupported ECDSA curve (want P-256, P-384 or P-521)")
		}
	case ed25519.PublicKey:
		k.Algorithm = "ed25519"
		add(sigsig.LoadED25519Verifier(p))
		add(sigsig.LoadED25519phVerifier(p))
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return Key{}, fmt.Errorf("RSA key of %d bits is too weak (want at least 2048)", p.N.BitLen())
		}
		k.Algorithm = fmt.Sprintf("rsa-%d", p.N.BitLen())
		add(sigsig.LoadRSAPKCS1v15Verifier(p, crypto.SHA256))
		add(sigsig.LoadRSAPSSVerifier(p, crypto.SHA256, nil))
	default:
		return Key{}, fmt.Errorf("unsupported public key type %T", pub)
	}
	if len(vs) == 0 {
		return Key{}, errors.New("unsupported public key")
	}
	k.verifiers = vs
	return k, nil
}

// Verify reports whether sig is a signature of msg by the key.
func (k Key) Verify(msg, sig []byte) bool {
	for _, v := range k.verifiers {
		if v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)) == nil {
			return true
		}
	}
	return false
}

// sigstoreVerifier adapts a Key to the verifier sigstore-go calls, trying
// each scheme in turn.
type sigstoreVerifier struct{ k Key }

func (s sigstoreVerifier) PublicKey(...sigsig.PublicKeyOption) (crypto.PublicKey, error) {
	return s.k.Public, nil
}

func (s sigstoreVerifier) VerifySignature(sig, msg io.Reader, opts ...sigsig.VerifyOption) error {
	sb, err := io.ReadAll(sig)
	if err != nil {
		return err
	}
	var mb []byte
	if msg != nil {
		if mb, err = io.ReadAll(msg); err != nil {
			return err
		}
	}
	for _, v := range s.k.verifiers {
		var m io.Reader
		if msg != nil {
			m = bytes.NewReader(mb)
		}
		if v.VerifySignature(bytes.NewReader(sb), m, opts...) == nil {
			return nil
		}
	}
	return errors.New("signature does not verify with the key")
}
