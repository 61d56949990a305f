// Package signature verifies cosign signatures and attestations of container
// images against public keys, offline: nothing is fetched but the image's
// own registry (or an OCI layout written by `cosign save`), and no
// transparency log, Fulcio or TUF root is consulted unless the caller hands
// over an offline trusted root and asks for log entries.
//
// Both storage schemes cosign uses are read: the legacy tags cosign 2
// writes (sha256-<hex>.sig holding simple-signing payloads, sha256-<hex>.att
// holding DSSE envelopes) and the Sigstore bundles cosign 3 attaches as OCI
// 1.1 referrers (or under the referrers tag fallback sha256-<hex> on
// registries without the referrers API). Bundles are verified with
// sigstore-go; the legacy scheme, which sigstore-go does not read, with a
// few lines of our own over the same key verifiers.
package signature

import (
	"context"
	"errors"
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/image"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// Predicate types of the attestations cosign writes, by the names
// `cosign attest --type` takes.
var PredicateTypes = map[string]string{
	"cyclonedx":       "https://cyclonedx.org/bom",
	"spdx":            "https://spdx.dev/Document",
	"spdxjson":        "https://spdx.dev/Document",
	"vuln":            "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":         "https://openvex.dev/ns",
	"slsaprovenance":  "https://slsa.dev/provenance/v0.2",
	"slsaprovenance1": "https://slsa.dev/provenance/v1",
	"custom":          "https://cosign.sigstore.dev/attestation/v1",
}

// CosignSignPredicateType is the predicate type of a cosign 3 image
// signature (a bundle whose statement only names the image).
const CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"

// PredicateType returns the predicate type URI for a `cosign attest
// --type` name, or s itself when it already is a URI.
func PredicateType(s string) (string, error) {
	if u, ok := PredicateTypes[strings.ToLower(s)]; ok {
		return u, nil
	}
	if strings.Contains(s, "://") {
		return s, nil
	}
	names := make([]string, 0, len(PredicateTypes))
	for k := range PredicateTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	return "", fmt.Errorf("unknown attestation type %q (want one of %s, or a predicate type URI)", s, strings.Join(names, ", "))
}

// Options say what to verify and against what.
type Options struct {
	// Image is the image reference (registry); Layout an OCI layout
	// directory written by `cosign save`. Exactly one is set.
	Image  string
	Layout string
	// Keys are the trusted public keys.
	Keys []Key
	// RequireAll asks for a valid signature by every key (all-of);
	// otherwise one by any key is enough (any-of).
	RequireAll bool
	// Attestation, when set, is the predicate type URI of the attestation
	// to verify instead of image signatures.
	Attestation string
	// Annotations must all appear, with these values, in a signature's
	// claims (cosign sign -a k=v) for it to count.
	Annotations map[string]string
	// Registry holds credentials and transport settings.
	Registry RegistryOptions
	// TrustedRoot, with RequireTlog, makes bundles count only with a
	// transparency log entry that verifies against this (offline) root.
	TrustedRoot *root.TrustedRoot
	RequireTlog bool
}

// Result is the outcome of a verification.
type Result struct {
	Image  string `json:"image"`
	Digest string `json:"digest"`
	// Want is "signature" or the predicate type asked for.
	Want     string `json:"want"`
	Verified bool   `json:"verified"`
	// Reason says why the image is not verified.
	Reason string `json:"reason,omitempty"`
	// Keys lists the keys that made a valid signature.
	Keys       []string    `json:"keys"`
	Signatures []Signature `json:"signatures"`
}

// Signature is one signature or attestation found for the image.
type Signature struct {
	// Kind is "signature" or "attestation".
	Kind string `json:"kind"`
	// Format is "simplesigning" (cosign 2 .sig), "dsse" (cosign 2 .att)
	// or "bundle" (cosign 3, Sigstore bundle).
	Format string `json:"format"`
	// Source is where it was found: the tag or manifest, and the layer.
	Source   string `json:"source"`
	Verified bool   `json:"verified"`
	// Key and KeyID name the key that verified it.
	Key           string  `json:"key,omitempty"`
	KeyID         string  `json:"keyID,omitempty"`
	PredicateType string  `json:"predicateType,omitempty"`
	Claims        *Claims `json:"claims,omitempty"`
	// Reason says why it does not count.
	Reason string `json:"reason,omitempty"`
}

// Claims are what a verified signature says about the image.
type Claims struct {
	Digest          string            `json:"digest"`
	DockerReference string            `json:"dockerReference,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

// Reasons a signature does not count.
const (
	ReasonNoSignatures = "no signatures found"
	ReasonWrongKey     = "not signed by any of the given keys"
)

// Verify looks up the signatures (or the attestations asked for) of an
// image and verifies them. A result that is not verified is not an error;
// errors are bad options (outcome.ErrUsage) and images or registries that
// cannot be read (outcome.ErrUnreadable).
func Verify(ctx context.Context, o Options) (*Result, error) {
	if len(o.Keys) == 0 {
		return nil, outcome.Usagef("no public key given")
	}
	if (o.Image == "") == (o.Layout == "") {
		return nil, outcome.Usagef("give either an image reference or an OCI layout")
	}
	if o.RequireTlog && o.TrustedRoot == nil {
		return nil, outcome.Usagef("transparency log entries need a trusted root")
	}
	var s store
	var digest v1.Hash
	res := &Result{Image: o.Image, Want: "signature", Keys: []string{}, Signatures: []Signature{}}
	if o.Attestation != "" {
		res.Want = o.Attestation
	}
	if o.Layout != "" {
		ls, d, err := openLayout(o.Layout)
		if err != nil {
			return nil, outcome.Unreadable(err)
		}
		s, digest = ls, d
		res.Image = o.Layout
	} else {
		ref, err := name.ParseReference(o.Image, image.NameOptions(o.Registry)...)
		if err != nil {
			return nil, outcome.Usagef("parsing image reference %q: %v", o.Image, err)
		}
		rs := newRegistryStore(ctx, ref.Context(), o.Registry)
		if d, ok := ref.(name.Digest); ok {
			digest, err = v1.NewHash(d.DigestStr())
		} else {
			var desc *v1.Descriptor
			desc, err = remote.Head(ref, rs.opts...)
			if err == nil {
				digest = desc.Digest
			}
		}
		if err != nil {
			return nil, outcome.Unreadable(fmt.Errorf("resolving %s: %w", o.Image, image.RegistryError(err)))
		}
		s = rs
	}
	res.Digest = digest.String()

	c := newChecker(o, res.Digest)
	var (
		mu      sync.Mutex
		found   []Signature
		errs    []error
		wg      sync.WaitGroup
		collect = func(sigs []Signature, err error) {
			mu.Lock()
			defer mu.Unlock()
			found = append(found, sigs...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	)
	suffix, format := "sig", "simplesigning"
	if o.Attestation != "" {
		suffix, format = "att", "dsse"
	}
	wg.Go(func() { collect(c.legacy(ctx, s, digest, suffix, format)) })
	wg.Go(func() { collect(c.bundles(ctx, s, digest)) })
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, outcome.Unreadable(image.RegistryError(err))
	}
	// A stable order: legacy before bundles, then by source.
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].Format != found[j].Format {
			return found[i].Format > found[j].Format
		}
		return found[i].Source < found[j].Source
	})
	res.Signatures = found
	c.decide(res)
	return res, nil
}

// checker verifies candidate signatures for one image digest.
type checker struct {
	o      Options
	digest string
	// materials holds one sigstore-go trusted material per key.
	materials []root.TrustedMaterial
}

func newChecker(o Options, digest string) *checker {
	c := &checker{o: o, digest: digest}
	for _, k := range o.Keys {
		c.materials = append(c.materials, keyMaterial(k, o.TrustedRoot))
	}
	return c
}

// legacy checks the layers of the sha256-<hex>.<suffix> manifest.
func (c *checker) legacy(ctx context.Context, s store, digest v1.Hash, suffix, format string) ([]Signature, error) {
	m, where, err := s.attached(ctx, digest, suffix)
	if err != nil || m == nil {
		return nil, err
	}
	var out []Signature
	for i, l := range m.Layers {
		sig := Signature{Kind: "signature", Format: format, Source: fmt.Sprintf("%s layer %d", where, i+1)}
		if suffix == "att" {
			sig.Kind = "attestation"
		}
		want := mtSimpleSign
		if suffix == "att" {
			want = mtDSSE
		}
		if string(l.MediaType) != want {
			continue // not a signature layer (cosign only writes these)
		}
		max := int64(maxPayload)
		if suffix == "att" {
			max = maxBundle
		}
		payload, err := readBlob(ctx, s, l.Digest, max)
		if err != nil {
			sig.Reason = "unreadable: " + err.Error()
			out = append(out, sig)
			continue
		}
		if suffix == "sig" {
			c.checkSimpleSigning(&sig, payload, l.Annotations[annSignature])
		} else {
			c.checkLegacyAttestation(&sig, payload)
		}
		out = append(out, sig)
	}
	return out, nil
}

// checkSimpleSigning verifies a cosign 2 signature layer: the signature
// (base64, in the layer annotation) over the exact payload bytes, then the
// payload's claims.
func (c *checker) checkSimpleSigning(sig *Signature, payload []byte, b64 string) {
	if b64 == "" {
		sig.Reason = "malformed: the layer has no " + annSignature + " annotation"
		return
	}
	raw, err := decodeBase64(b64)
	if err != nil {
		sig.Reason = "malformed: the signature annotation is not base64"
		return
	}
	k, ok := c.keyFor(payload, raw)
	if !ok {
		sig.Reason = ReasonWrongKey
		return
	}
	sig.Key, sig.KeyID = k.Name, k.ID
	p, err := ParseSimpleSigning(payload)
	if err != nil {
		sig.Reason = "malformed: " + err.Error()
		return
	}
	sig.Claims = &Claims{Digest: p.Digest, DockerReference: p.DockerReference, Annotations: p.Annotations}
	c.checkClaims(sig)
}

// checkLegacyAttestation verifies a cosign 2 attestation layer: a DSSE
// envelope whose signature covers the PAE of its in-toto statement.
func (c *checker) checkLegacyAttestation(sig *Signature, payload []byte) {
	env, err := ParseEnvelope(payload)
	if err != nil {
		sig.Reason = "malformed: " + err.Error()
		return
	}
	pae := PAE(env.PayloadType, env.Payload)
	var key *Key
	for _, s := range env.Signatures {
		if k, ok := c.keyFor(pae, s); ok {
			key = &k
			break
		}
	}
	if key == nil {
		sig.Reason = ReasonWrongKey
		return
	}
	sig.Key, sig.KeyID = key.Name, key.ID
	c.checkStatement(sig, env.PayloadType, env.Payload)
}

// checkStatement checks a verified in-toto statement: its payload type,
// that it names the image, and its predicate type.
func (c *checker) checkStatement(sig *Signature, payloadType string, payload []byte) {
	if payloadType != InTotoPayloadType {
		sig.Reason = fmt.Sprintf("malformed: payload type %q is not an in-toto statement", payloadType)
		return
	}
	st, err := ParseStatement(payload)
	if err != nil {
		sig.Reason = "malformed: " + err.Error()
		return
	}
	sig.PredicateType = st.PredicateType
	sub, ok := st.subjectFor(c.digest)
	claims := &Claims{Digest: strings.Join(st.digests(), ",")}
	if ok {
		claims = &Claims{Digest: c.digest, DockerReference: sub.Name, Annotations: sub.Annotations}
	}
	sig.Claims = claims
	c.checkClaims(sig)
}

// checkClaims marks a signature whose key verified as verified when its
// claims are the ones asked for.
func (c *checker) checkClaims(sig *Signature) {
	if sig.Claims.Digest != c.digest {
		sig.Reason = fmt.Sprintf("payload digest mismatch: it signs %s, the image is %s", orNone(sig.Claims.Digest), c.digest)
		return
	}
	if sig.Kind == "attestation" && sig.PredicateType != c.o.Attestation {
		sig.Reason = fmt.Sprintf("predicate type %s, not %s", sig.PredicateType, c.o.Attestation)
		return
	}
	keys := make([]string, 0, len(c.o.Annotations))
	for k := range c.o.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := c.o.Annotations[k]
		got, ok := sig.Claims.Annotations[k]
		switch {
		case !ok:
			sig.Reason = fmt.Sprintf("annotation %s=%s required, but the signature has no %s", k, want, k)
			return
		case got != want:
			sig.Reason = fmt.Sprintf("annotation %s is %q, %q required", k, got, want)
			return
		}
	}
	sig.Verified = true
}

func orNone(s string) string {
	if s == "" {
		return "no digest"
	}
	return s
}

// keyFor returns the first key that sig verifies with over msg.
func (c *checker) keyFor(msg, sig []byte) (Key, bool) {
	for _, k := range c.o.Keys {
		if k.Verify(msg, sig) {
			return k, true
		}
	}
	return Key{}, false
}

// decide sets the overall verdict.
func (c *checker) decide(res *Result) {
	byKey := map[string]bool{}
	for _, s := range res.Signatures {
		if s.Verified {
			byKey[s.KeyID] = true
		}
	}
	for _, k := range c.o.Keys {
		if byKey[k.ID] && !slices.Contains(res.Keys, k.Name) {
			res.Keys = append(res.Keys, k.Name)
		}
	}
	switch {
	case len(res.Signatures) == 0 && c.o.Attestation != "":
		res.Reason = "no attestations found"
	case len(res.Signatures) == 0:
		res.Reason = ReasonNoSignatures
	case c.o.RequireAll:
		var missing []string
		for _, k := range c.o.Keys {
			if !byKey[k.ID] {
				missing = append(missing, k.Name)
			}
		}
		if len(missing) == 0 {
			res.Verified = true
			return
		}
		res.Reason = "no valid signature by " + strings.Join(missing, ", ") + c.reasons(res)
	case len(byKey) > 0:
		res.Verified = true
	default:
		res.Reason = "no valid signature" + c.reasons(res)
	}
}

// reasons lists the distinct reasons the signatures found do not count.
func (c *checker) reasons(res *Result) string {
	var rs []string
	for _, s := range res.Signatures {
		if s.Reason != "" && !slices.Contains(rs, s.Reason) {
			rs = append(rs, s.Reason)
		}
	}
	if len(rs) == 0 {
		return ""
	}
	return ": " + strings.Join(rs, "; ")
}
