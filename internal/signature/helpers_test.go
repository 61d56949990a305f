package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// testKey is a key pair made in the test, signing the way cosign does for
// its type.
type testKey struct {
	name string
	priv crypto.Signer
	pub  Key
}

func newTestKey(tb testing.TB, algo string) testKey {
	tb.Helper()
	var priv crypto.Signer
	var err error
	switch algo {
	case "ecdsa-p256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa-p384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "rsa-2048":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		tb.Fatalf("unknown key type %s", algo)
	}
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := ParseKeys(pemPublic(tb, priv.Public()), algo+".pub")
	if err != nil {
		tb.Fatal(err)
	}
	return testKey{name: algo, priv: priv, pub: keys[0]}
}

func pemPublic(tb testing.TB, pub crypto.PublicKey) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// sign signs msg as cosign does: ECDSA over the curve's hash, Ed25519 pure
// (prehashed when ph), RSA PKCS #1 v1.5 over SHA-256.
func (k testKey) sign(tb testing.TB, msg []byte, ph bool) []byte {
	tb.Helper()
	var sig []byte
	var err error
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		h := crypto.SHA256
		if p.Curve == elliptic.P384() {
			h = crypto.SHA384
		}
		hh := h.New()
		hh.Write(msg)
		sig, err = ecdsa.SignASN1(rand.Reader, p, hh.Sum(nil))
	case ed25519.PrivateKey:
		if ph {
			sum := sha512.Sum512(msg)
			sig, err = p.Sign(nil, sum[:], &ed25519.Options{Hash: crypto.SHA512})
		} else {
			sig = ed25519.Sign(p, msg)
		}
	case *rsa.PrivateKey:
		sum := sha256.Sum256(msg)
		sig, err = rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, sum[:])
	}
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// simpleSigning returns a cosign 2 payload for digest.
func simpleSigning(repo, digest string, annotations map[string]any) []byte {
	p := map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": repo},
			"image":    map[string]string{"docker-manifest-digest": digest},
			"type":     SimpleSigningType,
		},
		"optional": annotations,
	}
	b, _ := json.Marshal(p)
	return b
}

// pushImage pushes a small image to ref and returns its digest.
func pushImage(tb testing.TB, ref, content string) string {
	tb.Helper()
	img := registrytest.Image(tb, registrytest.Layer(tb, registrytest.File("etc/app", content)))
	registrytest.Push(tb, ref, img)
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return d.String()
}

// sigLayer is one layer of a legacy signature manifest.
type sigLayer struct {
	payload   []byte
	mediaType types.MediaType
	sig       string // the signature annotation; "" for none
}

// pushAttached writes the legacy sha256-<hex>.<suffix> manifest holding
// layers into repo ("HOST/name").
func pushAttached(tb testing.TB, repo, digest, suffix string, layers ...sigLayer) {
	tb.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range layers {
		ann := map[string]string{}
		if l.sig != "" {
			ann[annSignature] = l.sig
		}
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(l.payload, l.mediaType), Annotations: ann})
		if err != nil {
			tb.Fatal(err)
		}
	}
	h, _ := v1.NewHash(digest)
	registrytest.Push(tb, fmt.Sprintf("%s:%s-%s.%s", repo, h.Algorithm, h.Hex, suffix), img)
}

// legacySig signs a simple-signing payload for digest with k.
func legacySig(tb testing.TB, k testKey, repo, digest string, ann map[string]any) sigLayer {
	tb.Helper()
	p := simpleSigning(repo, digest, ann)
	return sigLayer{payload: p, mediaType: mtSimpleSign, sig: base64.StdEncoding.EncodeToString(k.sign(tb, p, true))}
}

// statement returns an in-toto v1 statement about digest.
func statement(digest, predicateType string, predicate any, ann map[string]any) []byte {
	h, _ := v1.NewHash(digest)
	sub := map[string]any{"name": "", "digest": map[string]string{h.Algorithm: h.Hex}}
	if ann != nil {
		sub["annotations"] = ann
	}
	b, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{sub},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	return b
}

// envelope signs a DSSE envelope of payload with k.
func envelope(tb testing.TB, k testKey, payloadType string, payload []byte) map[string]any {
	tb.Helper()
	return map[string]any{
		"payloadType": payloadType,
		"payload":     base64.StdEncoding.EncodeToString(payload),
		"signatures":  []any{map[string]string{"keyid": "", "sig": base64.StdEncoding.EncodeToString(k.sign(tb, PAE(payloadType, payload), false))}},
	}
}

// sigstoreBundle returns a v0.3 bundle of a DSSE envelope signed by k.
func sigstoreBundle(tb testing.TB, k testKey, payload []byte) []byte {
	tb.Helper()
	b, _ := json.Marshal(map[string]any{
		"mediaType":            "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": "test"}},
		"dsseEnvelope":         envelope(tb, k, InTotoPayloadType, payload),
	})
	return b
}

// referrer is a raw referrer manifest.
type referrer struct {
	raw []byte
}

func (r referrer) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r referrer) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// pushBundle attaches a bundle to the image at repo@digest as a referrer,
// as cosign 3 does (the registry's referrers API, or the tag fallback).
func pushBundle(tb testing.TB, repo, digest string, bundleJSON []byte, predicateType string) {
	tb.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		tb.Fatal(err)
	}
	subj, err := remote.Head(r.Digest(digest))
	if err != nil {
		tb.Fatal(err)
	}
	mt := types.MediaType("application/vnd.dev.sigstore.bundle.v0.3+json")
	layer := static.NewLayer(bundleJSON, mt)
	cfg := static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")
	for _, l := range []v1.Layer{layer, cfg} {
		if err := remote.WriteLayer(r, l); err != nil {
			tb.Fatal(err)
		}
	}
	ld, _ := layer.Digest()
	cd, _ := cfg.Digest()
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  mt,
		"config":        v1.Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: cd, Size: 2},
		"layers":        []v1.Descriptor{{MediaType: mt, Digest: ld, Size: int64(len(bundleJSON))}},
		"subject":       v1.Descriptor{MediaType: subj.MediaType, Digest: subj.Digest, Size: subj.Size},
		"annotations":   map[string]string{annBundlePredicate: predicateType},
	}
	raw, _ := json.Marshal(m)
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	if err := remote.Put(r.Digest(h.String()), referrer{raw}); err != nil {
		tb.Fatal(err)
	}
}
