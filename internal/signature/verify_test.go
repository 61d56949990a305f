package signature

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

var keyTypes = []string{"ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-2048"}

func run(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Verify(context.Background(), o)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// TestKeyTypes signs with every key type in both schemes and checks that
// the signature verifies with its key and with no other.
func TestKeyTypes(t *testing.T) {
	reg := registrytest.StartRegistry(t, registrytest.WithReferrers())
	keys := map[string]testKey{}
	for _, a := range keyTypes {
		keys[a] = newTestKey(t, a)
	}
	for _, a := range keyTypes {
		k := keys[a]
		other := keys[keyTypes[(indexOf(keyTypes, a)+1)%len(keyTypes)]]
		t.Run(a+"/legacy", func(t *testing.T) {
			repo := reg.Host + "/legacy-" + a
			d := pushImage(t, repo+":1", a)
			pushAttached(t, repo, d, "sig", legacySig(t, k, repo, d, nil))
			res := run(t, Options{Image: repo + ":1", Keys: []Key{k.pub}})
			if !res.Verified || res.Digest != d || len(res.Signatures) != 1 || res.Signatures[0].KeyID != k.pub.ID {
				t.Fatalf("not verified: %+v", res)
			}
			res = run(t, Options{Image: repo + ":1", Keys: []Key{other.pub}})
			if res.Verified || res.Signatures[0].Reason != ReasonWrongKey {
				t.Errorf("verified with another key: %+v", res)
			}
		})
		t.Run(a+"/bundle", func(t *testing.T) {
			repo := reg.Host + "/bundle-" + a
			d := pushImage(t, repo+":1", a)
			pushBundle(t, repo, d, sigstoreBundle(t, k, statement(d, CosignSignPredicateType, map[string]any{}, nil)), CosignSignPredicateType)
			res := run(t, Options{Image: repo + ":1", Keys: []Key{other.pub, k.pub}})
			if !res.Verified || len(res.Signatures) != 1 || res.Signatures[0].Format != "bundle" || res.Signatures[0].Key != k.pub.Name {
				t.Fatalf("not verified: %+v", res)
			}
			res = run(t, Options{Image: repo + ":1", Keys: []Key{other.pub}})
			if res.Verified || res.Signatures[0].Reason != ReasonWrongKey {
				t.Errorf("verified with another key: %+v", res)
			}
		})
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestRefusals covers each way a signature must be refused, with its reason.
func TestRefusals(t *testing.T) {
	reg := registrytest.StartRegistry(t) // no referrers API: bundles go through the tag fallback
	k := newTestKey(t, "ecdsa-p256")
	repo := reg.Host + "/app"
	signed := pushImage(t, repo+":signed", "signed")
	good := legacySig(t, k, repo, signed, map[string]any{"team": "payments"})
	pushAttached(t, repo, signed, "sig", good)

	// edited pushes an image at tag, signs it, and changes the signature
	// layer with edit before attaching it.
	edited := func(tag string, edit func(*sigLayer)) func(t *testing.T) string {
		return func(t *testing.T) string {
			d := pushImage(t, repo+":"+tag, tag)
			l := legacySig(t, k, repo, d, map[string]any{"team": "payments"})
			edit(&l)
			pushAttached(t, repo, d, "sig", l)
			return repo + ":" + tag
		}
	}
	tests := []struct {
		name   string
		setup  func(t *testing.T) string // returns the image reference
		opts   Options
		ok     bool
		reason string // of the result
	}{
		{name: "signed", setup: func(*testing.T) string { return repo + ":signed" }, ok: true},
		{name: "by digest", setup: func(*testing.T) string { return repo + "@" + signed }, ok: true},
		{name: "unsigned", setup: func(t *testing.T) string {
			pushImage(t, repo+":unsigned", "unsigned")
			return repo + ":unsigned"
		}, reason: ReasonNoSignatures},
		{name: "retagged after signing", setup: func(t *testing.T) string {
			pushImage(t, repo+":signed2", "signed")
			registrytest.Push(t, repo+":moved", registrytest.Image(t, registrytest.Layer(t, registrytest.File("etc/app", "other"))))
			return repo + ":moved"
		}, reason: ReasonNoSignatures},
		{name: "signature copied to another digest", setup: func(t *testing.T) string {
			d := pushImage(t, repo+":copied", "copied")
			pushAttached(t, repo, d, "sig", good)
			return repo + ":copied"
		}, reason: "no valid signature: payload digest mismatch: it signs " + signed + ", the image is "},
		{name: "tampered payload", setup: edited("tampered", func(l *sigLayer) {
			l.payload = []byte(strings.Replace(string(l.payload), "payments", "paymentz", 1))
		}), reason: "no valid signature: " + ReasonWrongKey},
		{name: "tampered signature", setup: edited("badsig", func(l *sigLayer) {
			raw, _ := base64.StdEncoding.DecodeString(l.sig)
			raw[len(raw)-1] ^= 1
			l.sig = base64.StdEncoding.EncodeToString(raw)
		}), reason: "no valid signature: " + ReasonWrongKey},
		{name: "signature annotation not base64", setup: edited("nob64", func(l *sigLayer) { l.sig = "%%%" }),
			reason: "no valid signature: malformed: the signature annotation is not base64"},
		{name: "no signature annotation", setup: edited("noann", func(l *sigLayer) { l.sig = "" }),
			reason: "no valid signature: malformed: the layer has no dev.cosignproject.cosign/signature annotation"},
		{name: "signed payload of another type", setup: func(t *testing.T) string {
			d := pushImage(t, repo+":type", "type")
			p := []byte(strings.Replace(string(simpleSigning(repo, d, nil)), SimpleSigningType, "something else", 1))
			pushAttached(t, repo, d, "sig", sigLayer{payload: p, mediaType: mtSimpleSign, sig: base64.StdEncoding.EncodeToString(k.sign(t, p, true))})
			return repo + ":type"
		}, reason: `no valid signature: malformed: payload type is "something else", not "cosign container image signature"`},
		{name: "required annotation present", setup: func(*testing.T) string { return repo + ":signed" },
			opts: Options{Annotations: map[string]string{"team": "payments"}}, ok: true},
		{name: "required annotation wrong", setup: func(*testing.T) string { return repo + ":signed" },
			opts:   Options{Annotations: map[string]string{"team": "web"}},
			reason: `no valid signature: annotation team is "payments", "web" required`},
		{name: "required annotation missing", setup: func(*testing.T) string { return repo + ":signed" },
			opts:   Options{Annotations: map[string]string{"ref": "main"}},
			reason: "no valid signature: annotation ref=main required, but the signature has no ref"},
		{name: "all of two keys, one signed", setup: func(*testing.T) string { return repo + ":signed" },
			opts:   Options{RequireAll: true, Keys: []Key{k.pub, newTestKey(t, "ed25519").pub}},
			reason: "no valid signature by ed25519.pub"},
		{name: "bundle through the tag fallback", setup: func(t *testing.T) string {
			d := pushImage(t, repo+":bundle", "bundle")
			pushBundle(t, repo, d, sigstoreBundle(t, k, statement(d, CosignSignPredicateType, map[string]any{}, map[string]any{"team": "payments"})), CosignSignPredicateType)
			return repo + ":bundle"
		}, opts: Options{Annotations: map[string]string{"team": "payments"}}, ok: true},
		{name: "bundle for another digest", setup: func(t *testing.T) string {
			d := pushImage(t, repo+":bundle2", "bundle2")
			pushBundle(t, repo, d, sigstoreBundle(t, k, statement(signed, CosignSignPredicateType, map[string]any{}, nil)), CosignSignPredicateType)
			return repo + ":bundle2"
		}, reason: "no valid signature: payload digest mismatch: it signs " + signed + ", the image is "},
		{name: "bundle that is not JSON", setup: func(t *testing.T) string {
			d := pushImage(t, repo+":bundle3", "bundle3")
			pushBundle(t, repo, d, []byte("not json"), CosignSignPredicateType)
			return repo + ":bundle3"
		}, reason: "no valid signature: malformed: not a valid Sigstore bundle"},
		{name: "bundle of an attestation is not a signature", setup: func(t *testing.T) string {
			d := pushImage(t, repo+":bundle4", "bundle4")
			pushBundle(t, repo, d, sigstoreBundle(t, k, statement(d, PredicateTypes["cyclonedx"], map[string]any{}, nil)), CosignSignPredicateType)
			return repo + ":bundle4"
		}, reason: ReasonNoSignatures},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Image = tt.setup(t)
			if o.Keys == nil {
				o.Keys = []Key{k.pub}
			}
			res := run(t, o)
			if res.Verified != tt.ok {
				t.Fatalf("verified = %v, want %v: %s\n%+v", res.Verified, tt.ok, res.Reason, res.Signatures)
			}
			if !strings.HasPrefix(res.Reason, tt.reason) || (tt.reason == "") != (res.Reason == "") {
				t.Errorf("reason %q, want %q", res.Reason, tt.reason)
			}
		})
	}
}

// TestClaims checks what a verified legacy signature reports.
func TestClaims(t *testing.T) {
	reg := registrytest.StartRegistry(t)
	k := newTestKey(t, "ecdsa-p256")
	repo := reg.Host + "/app"
	d := pushImage(t, repo+":1", "x")
	pushAttached(t, repo, d, "sig", legacySig(t, k, repo, d, map[string]any{"ref": "main", "n": 3}))
	res := run(t, Options{Image: repo + ":1", Keys: []Key{k.pub}})
	want := []Signature{{
		Kind: "signature", Format: "simplesigning", Verified: true,
		Source: repo + ":sha256-" + d[len("sha256:"):] + ".sig layer 1",
		Key:    "ecdsa-p256.pub", KeyID: k.pub.ID,
		Claims: &Claims{Digest: d, DockerReference: repo, Annotations: map[string]string{"ref": "main", "n": "3"}},
	}}
	if diff := cmp.Diff(want, res.Signatures); diff != "" {
		t.Errorf("signatures (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ecdsa-p256.pub"}, res.Keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

// TestAttestations verifies legacy (cosign 2) and bundle (cosign 3)
// attestations, selected by predicate type.
func TestAttestations(t *testing.T) {
	reg := registrytest.StartRegistry(t, registrytest.WithReferrers())
	k := newTestKey(t, "ecdsa-p256")
	other := newTestKey(t, "ecdsa-p256")
	repo := reg.Host + "/app"
	cdx := PredicateTypes["cyclonedx"]
	vuln := PredicateTypes["vuln"]

	legacy := pushImage(t, repo+":legacy", "legacy")
	st := statement(legacy, cdx, map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5"}, nil)
	env, _ := json.Marshal(envelope(t, k, InTotoPayloadType, st))
	pushAttached(t, repo, legacy, "att", sigLayer{payload: env, mediaType: mtDSSE})

	bundled := pushImage(t, repo+":bundled", "bundled")
	pushBundle(t, repo, bundled, sigstoreBundle(t, k, statement(bundled, vuln, map[string]any{"scanner": map[string]any{}}, nil)), vuln)
	pushBundle(t, repo, bundled, sigstoreBundle(t, k, statement(bundled, CosignSignPredicateType, map[string]any{}, nil)), CosignSignPredicateType)

	tests := []struct {
		image, want string
		key         testKey
		ok          bool
		reason      string
	}{
		{image: "legacy", want: cdx, key: k, ok: true},
		{image: "legacy", want: cdx, key: other, reason: "no valid signature: " + ReasonWrongKey},
		{image: "legacy", want: vuln, key: k, reason: "no valid signature: predicate type " + cdx + ", not " + vuln},
		{image: "bundled", want: vuln, key: k, ok: true},
		{image: "bundled", want: cdx, key: k, reason: "no valid signature: predicate type " + vuln + ", not " + cdx},
		{image: "bundled", want: "", key: k, ok: true}, // the signature bundle, not the attestation
	}
	for _, tt := range tests {
		t.Run(tt.image+" "+tt.want, func(t *testing.T) {
			res := run(t, Options{Image: repo + ":" + tt.image, Keys: []Key{tt.key.pub}, Attestation: tt.want})
			if res.Verified != tt.ok || !strings.HasPrefix(res.Reason, tt.reason) {
				t.Fatalf("verified %v (%s), want %v (%s)\n%+v", res.Verified, res.Reason, tt.ok, tt.reason, res.Signatures)
			}
			if tt.ok && len(res.Signatures) != 1 {
				t.Errorf("%d signatures, want 1: %+v", len(res.Signatures), res.Signatures)
			}
		})
	}
}

// TestLayout verifies an OCI layout shaped as `cosign save` writes it.
func TestLayout(t *testing.T) {
	k := newTestKey(t, "ed25519")
	img := registrytest.Image(t, registrytest.Layer(t, registrytest.File("etc/app", "x")))
	d, _ := img.Digest()
	p := simpleSigning("example.com/app", d.String(), nil)
	sigImg, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
		mutate.Addendum{Layer: static.NewLayer(p, mtSimpleSign), Annotations: map[string]string{annSignature: base64.StdEncoding.EncodeToString(k.sign(t, p, true))}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"kind": kindImage})); err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(sigImg, layout.WithAnnotations(map[string]string{"kind": kindSigs})); err != nil {
		t.Fatal(err)
	}
	res := run(t, Options{Layout: dir, Keys: []Key{k.pub}})
	if !res.Verified || res.Digest != d.String() {
		t.Fatalf("not verified: %+v", res)
	}
	res = run(t, Options{Layout: dir, Keys: []Key{newTestKey(t, "ed25519").pub}})
	if res.Verified {
		t.Errorf("verified with another key")
	}
	_, err = Verify(context.Background(), Options{Layout: filepath.Join(dir, "nope"), Keys: []Key{k.pub}})
	if !errors.Is(err, outcome.ErrUnreadable) {
		t.Errorf("missing layout: %v, want an unreadable error", err)
	}
}

func TestErrors(t *testing.T) {
	k := newTestKey(t, "ecdsa-p256")
	reg := registrytest.StartRegistry(t)
	tests := []struct {
		name string
		o    Options
		kind error
		msg  string
	}{
		{"no key", Options{Image: "x"}, outcome.ErrUsage, "no public key"},
		{"no image", Options{Keys: []Key{k.pub}}, outcome.ErrUsage, "either an image"},
		{"bad reference", Options{Image: "UPPER/x:1", Keys: []Key{k.pub}}, outcome.ErrUsage, "parsing image reference"},
		{"missing image", Options{Image: reg.Host + "/nope:1", Keys: []Key{k.pub}}, outcome.ErrUnreadable, "resolving"},
		{"unreachable", Options{Image: "127.0.0.1:1/app:1", Keys: []Key{k.pub}}, outcome.ErrUnreadable, "resolving 127.0.0.1:1/app:1: registry 127.0.0.1:1 cannot be reached: connection refused"},
		{"plain HTTP off loopback", Options{Image: "10.255.255.1:5000/app:1", Keys: []Key{k.pub}}, outcome.ErrUnreadable, "refusing plain HTTP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tt.o)
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %v containing %q", err, tt.kind, tt.msg)
			}
		})
	}
}
