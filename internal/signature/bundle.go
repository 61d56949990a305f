package signature

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// annBundlePredicate is the referrer annotation cosign 3 puts on a bundle
// manifest; it only saves fetching bundles of the wrong kind (the
// predicate type that counts is the one inside the signed statement).
const annBundlePredicate = "dev.sigstore.bundle.predicateType"

// keyMaterial is the sigstore-go trusted material for one key: the key
// for any hint the bundle gives (the hint is the signer's claim, the key is
// ours), valid at all times, plus the offline trusted root when given.
func keyMaterial(k Key, tr *root.TrustedRoot) root.TrustedMaterial {
	km := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(sigstoreVerifier{k}, time.Time{}, time.Time{}), nil
	})
	if tr == nil {
		return km
	}
	return root.TrustedMaterialCollection{tr, km}
}

// ParsedBundle is a Sigstore bundle and the statement its envelope signs.
type ParsedBundle struct {
	Bundle    *bundle.Bundle
	Statement Statement
	// PayloadType and Payload are the DSSE envelope's.
	PayloadType string
	Payload     []byte
}

// ParseBundle parses a Sigstore bundle (JSON) holding a DSSE envelope and
// the in-toto statement in it. The statement is not yet verified.
func ParseBundle(b []byte) (*ParsedBundle, error) {
	var bu bundle.Bundle
	if err := bu.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("not a valid Sigstore bundle: %s", bundleError(err))
	}
	env, err := bu.Envelope()
	if err != nil || env == nil || env.Envelope == nil {
		return nil, errors.New("the bundle holds no DSSE envelope (a message signature does not sign an image)")
	}
	payload, err := decodeBase64(env.Payload)
	if err != nil {
		return nil, errors.New("the bundle's DSSE payload is not base64")
	}
	p := &ParsedBundle{Bundle: &bu, PayloadType: env.PayloadType, Payload: payload}
	if env.PayloadType == InTotoPayloadType {
		st, err := ParseStatement(payload)
		if err != nil {
			return nil, err
		}
		p.Statement = st
	}
	return p, nil
}

// bundleError phrases protojson and validation errors without Go or
// protobuf internals; the first line is enough to tell what is wrong.
func bundleError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "proto: ")
	s = strings.ReplaceAll(s, "(line 1:", "(at")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// bundles checks the Sigstore bundles attached to digest as referrers.
func (c *checker) bundles(ctx context.Context, s store, digest v1.Hash) ([]Signature, error) {
	refs, err := s.referrers(ctx, digest)
	if err != nil {
		return nil, err
	}
	var out []Signature
	n := 0
	for _, d := range refs {
		// Registries that predate OCI 1.1's artifactType (go-containerregistry's
		// own) report the config media type instead: cosign 3 writes the
		// empty config, so such a referrer may still hold a bundle.
		maybe := d.ArtifactType == "" || d.ArtifactType == mtEmpty
		if !strings.HasPrefix(d.ArtifactType, mtBundlePref) && !maybe {
			continue
		}
		pt, hasPT := d.Annotations[annBundlePredicate]
		isSign := pt == CosignSignPredicateType
		if hasPT && (c.o.Attestation == "") != isSign {
			continue // a bundle of the other kind
		}
		if n++; n > maxReferrers {
			break
		}
		sig := Signature{Kind: "signature", Format: "bundle", Source: s.where(d.Digest)}
		if c.o.Attestation != "" {
			sig.Kind = "attestation"
		}
		raw, err := c.bundleBlob(ctx, s, d.Digest, digest)
		if errors.Is(err, errNoBundle) && maybe {
			continue // some other artifact
		}
		if err != nil {
			sig.Reason = err.Error()
			out = append(out, sig)
			continue
		}
		if c.checkBundle(&sig, raw) {
			out = append(out, sig)
		}
	}
	return out, nil
}

var errNoBundle = errors.New("malformed: the referrer holds no bundle layer")

// bundleBlob reads the bundle layer of a referrer manifest.
func (c *checker) bundleBlob(ctx context.Context, s store, mdigest, subject v1.Hash) ([]byte, error) {
	mb, err := s.manifest(ctx, mdigest)
	if err != nil {
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	m, err := parseManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("malformed: %w", err)
	}
	if m.Subject == nil || m.Subject.Digest != subject {
		return nil, errors.New("malformed: the referrer's subject is not the image")
	}
	for _, l := range m.Layers {
		if strings.HasPrefix(string(l.MediaType), mtBundlePref) {
			b, err := readBlob(ctx, s, l.Digest, maxBundle)
			if err != nil {
				return nil, fmt.Errorf("unreadable: %w", err)
			}
			return b, nil
		}
	}
	return nil, errNoBundle
}

// checkBundle verifies a bundle with sigstore-go against each key in turn,
// then checks the claims of the statement it signs. It returns false for a
// bundle of the other kind (an attestation when signatures are wanted, or
// the reverse), which is not a candidate at all: registries without the
// referrers API lose cosign's predicate-type annotation, so the statement
// routes it. Routing on a statement not yet verified is safe: what counts
// is decided only after verification, on the same statement.
func (c *checker) checkBundle(sig *Signature, raw []byte) bool {
	p, err := ParseBundle(raw)
	if err != nil {
		sig.Reason = "malformed: " + err.Error()
		return true
	}
	if p.PayloadType == InTotoPayloadType && (p.Statement.PredicateType == CosignSignPredicateType) != (c.o.Attestation == "") {
		return false
	}
	opts := []verify.VerifierOption{verify.WithoutStatementPredicate()}
	if c.o.RequireTlog {
		opts = append(opts, verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1))
	} else {
		opts = append(opts, verify.WithNoObserverTimestamps())
	}
	// The statement's subject is checked below against the image digest,
	// with a reason of its own; sigstore-go checks the envelope signature.
	policy := verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey())
	var lastErr error
	for i, k := range c.o.Keys {
		v, err := verify.NewVerifier(c.materials[i], opts...)
		if err != nil {
			sig.Reason = "cannot verify: " + err.Error()
			return true
		}
		if _, err := v.Verify(p.Bundle, policy); err != nil {
			lastErr = err
			continue
		}
		sig.Key, sig.KeyID = k.Name, k.ID
		c.checkStatement(sig, p.PayloadType, p.Payload)
		return true
	}
	sig.Reason = ReasonWrongKey
	if c.o.RequireTlog && lastErr != nil && strings.Contains(lastErr.Error(), "log") {
		sig.Reason = "no transparency log entry verifies against the trusted root"
	}
	return true
}

// LoadTrustedRoot reads an offline trusted_root.json.
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root %s: %s", path, bundleError(err))
	}
	return tr, nil
}
