package signature

import (
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/signature/cosigntest"
)

// cosignKeys makes a key pair with c and loads its public key.
func cosignKeys(t *testing.T, c *cosigntest.Cosign) (priv string, pub Key) {
	t.Helper()
	dir := t.TempDir()
	priv, pubPath := c.GenerateKeyPair(t, dir)
	keys, err := LoadKeys(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	return priv, keys[0]
}

// sigTag is the legacy tag cosign 2 writes for digest.
func sigTag(t *testing.T, repo, digest, suffix string) name.Tag {
	t.Helper()
	h, _ := v1.NewHash(digest)
	tag, err := name.NewTag(repo + ":" + h.Algorithm + "-" + h.Hex + "." + suffix)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// rewriteSig replaces the first layer of a legacy signature manifest with
// what edit makes of its payload and signature annotation, and pushes the
// result to dst.
func rewriteSig(t *testing.T, src, dst name.Tag, edit func(payload []byte, sig string) ([]byte, string)) {
	t.Helper()
	img, err := remote.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	ls, _ := img.Layers()
	payload := readAll(t, ls[0])
	p, s := edit(payload, m.Layers[0].Annotations[annSignature])
	ann := map[string]string{}
	for k, v := range m.Layers[0].Annotations {
		ann[k] = v
	}
	ann[annSignature] = s
	out, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
		mutate.Addendum{Layer: static.NewLayer(p, mtSimpleSign), Annotations: ann})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, out); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func want(t *testing.T, res *Result, ok bool, reason string) {
	t.Helper()
	if res.Verified != ok || !strings.HasPrefix(res.Reason, reason) {
		t.Fatalf("verified %v (%q), want %v (%q)\n%+v", res.Verified, res.Reason, ok, reason, res.Signatures)
	}
}

// TestCosign2OnDistribution signs with the real cosign 2 on Debian's
// docker-registry and checks every refusal the legacy scheme allows.
func TestCosign2OnDistribution(t *testing.T) {
	c := cosigntest.V2(t)
	reg := registrytest.StartDistribution(t)
	priv, pub := cosignKeys(t, c)
	_, otherPub := cosignKeys(t, c)
	repo := reg.Addr + "/team/app"
	verifyImage := func(image string, o Options) *Result {
		o.Image = image
		if o.Keys == nil {
			o.Keys = []Key{pub}
		}
		return run(t, o)
	}

	signed := pushImage(t, repo+":signed", "signed")
	c.Sign(t, priv, repo+"@"+signed, "-a", "team=payments", "-a", "ref=main")
	t.Run("signed", func(t *testing.T) {
		res := verifyImage(repo+":signed", Options{Annotations: map[string]string{"team": "payments", "ref": "main"}})
		want(t, res, true, "")
		s := res.Signatures[0]
		if s.Format != "simplesigning" || !strings.HasSuffix(s.Key, "cosign.pub") || s.Claims.Digest != signed || s.Claims.DockerReference != repo {
			t.Errorf("signature %+v claims %+v", s, s.Claims)
		}
	})
	t.Run("annotation required", func(t *testing.T) {
		want(t, verifyImage(repo+":signed", Options{Annotations: map[string]string{"team": "web"}}), false,
			`no valid signature: annotation team is "payments", "web" required`)
	})
	t.Run("another key", func(t *testing.T) {
		want(t, verifyImage(repo+":signed", Options{Keys: []Key{otherPub}}), false, "no valid signature: "+ReasonWrongKey)
	})
	t.Run("unsigned", func(t *testing.T) {
		pushImage(t, repo+":unsigned", "unsigned")
		want(t, verifyImage(repo+":unsigned", Options{}), false, ReasonNoSignatures)
	})
	t.Run("retagged after signing", func(t *testing.T) {
		d := pushImage(t, repo+":retag", "retag-1")
		c.Sign(t, priv, repo+"@"+d)
		moved := pushImage(t, repo+":retag", "retag-2")
		want(t, verifyImage(repo+":retag", Options{}), false, ReasonNoSignatures)
		// The old signature copied to the new digest's tag names the old digest.
		rewriteSig(t, sigTag(t, repo, d, "sig"), sigTag(t, repo, moved, "sig"), func(p []byte, s string) ([]byte, string) { return p, s })
		want(t, verifyImage(repo+":retag", Options{}), false, "no valid signature: payload digest mismatch: it signs "+d)
	})
	// tampered signs a new image at tag with cosign, then rewrites the
	// signature layer cosign wrote.
	tampered := func(tag string, edit func(payload []byte, sig string) ([]byte, string)) string {
		d := pushImage(t, repo+":"+tag, tag)
		c.Sign(t, priv, repo+"@"+d)
		st := sigTag(t, repo, d, "sig")
		rewriteSig(t, st, st, edit)
		return repo + ":" + tag
	}
	t.Run("tampered payload", func(t *testing.T) {
		ref := tampered("tampered", func(p []byte, s string) ([]byte, string) {
			return []byte(strings.Replace(string(p), "team/app", "team/evil", 1)), s
		})
		want(t, verifyImage(ref, Options{}), false, "no valid signature: "+ReasonWrongKey)
	})
	t.Run("tampered signature layer", func(t *testing.T) {
		ref := tampered("badsig", func(p []byte, s string) ([]byte, string) {
			raw, _ := base64.StdEncoding.DecodeString(s)
			raw[len(raw)/2] ^= 0x40
			return p, base64.StdEncoding.EncodeToString(raw)
		})
		want(t, verifyImage(ref, Options{}), false, "no valid signature: "+ReasonWrongKey)
	})
	t.Run("attestation", func(t *testing.T) {
		d := pushImage(t, repo+":attested", "attested")
		sbom := filepath.Join(t.TempDir(), "sbom.cdx.json")
		os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[]}`), 0o644)
		c.Attest(t, priv, repo+"@"+d, "cyclonedx", sbom)
		res := verifyImage(repo+":attested", Options{Attestation: PredicateTypes["cyclonedx"]})
		want(t, res, true, "")
		if res.Signatures[0].Format != "dsse" || res.Signatures[0].PredicateType != PredicateTypes["cyclonedx"] {
			t.Errorf("attestation %+v", res.Signatures[0])
		}
		want(t, verifyImage(repo+":attested", Options{Attestation: PredicateTypes["vuln"]}), false, "no valid signature: predicate type "+PredicateTypes["cyclonedx"])
		want(t, verifyImage(repo+":attested", Options{Attestation: PredicateTypes["cyclonedx"], Keys: []Key{otherPub}}), false, "no valid signature: "+ReasonWrongKey)
		want(t, verifyImage(repo+":attested", Options{}), false, ReasonNoSignatures)
	})
	t.Run("cosign save layout", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "layout")
		c.Run(t, "save", "--dir", dir, repo+":signed")
		want(t, run(t, Options{Layout: dir, Keys: []Key{pub}}), true, "")
		want(t, run(t, Options{Layout: dir, Keys: []Key{otherPub}}), false, "no valid signature: "+ReasonWrongKey)
	})
}

// TestCosign3OnDistribution signs with the real cosign 3: Debian's
// registry (2.8) has no referrers API, so the bundle lands under the
// referrers tag fallback sha256-<hex>.
func TestCosign3OnDistribution(t *testing.T) {
	c := cosigntest.V3(t)
	reg := registrytest.StartDistribution(t)
	priv, pub := cosignKeys(t, c)
	_, otherPub := cosignKeys(t, c)
	repo := reg.Addr + "/team/app"

	signed := pushImage(t, repo+":signed", "signed")
	c.Sign(t, priv, repo+"@"+signed, "-a", "team=payments")
	h, _ := v1.NewHash(signed)
	if resp, err := http.Get("http://" + reg.Addr + "/v2/team/app/referrers/" + signed); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("docker-registry serves the referrers API; this test is meant for the tag fallback")
		}
	}
	if _, err := remote.Head(mustTag(t, repo+":sha256-"+h.Hex)); err != nil {
		t.Fatalf("cosign 3 wrote no referrers fallback tag: %v", err)
	}

	res := run(t, Options{Image: repo + ":signed", Keys: []Key{pub}, Annotations: map[string]string{"team": "payments"}})
	want(t, res, true, "")
	if s := res.Signatures[0]; s.Format != "bundle" || s.Claims.Digest != signed || s.Claims.Annotations["team"] != "payments" {
		t.Errorf("signature %+v claims %+v", s, s.Claims)
	}
	want(t, run(t, Options{Image: repo + ":signed", Keys: []Key{otherPub}}), false, "no valid signature: "+ReasonWrongKey)

	unsigned := pushImage(t, repo+":unsigned", "unsigned")
	want(t, run(t, Options{Image: repo + ":unsigned", Keys: []Key{pub}}), false, ReasonNoSignatures)
	// The signed image's fallback index copied to the unsigned image's tag:
	// the bundle's referrer names another subject.
	idx, err := remote.Index(mustTag(t, repo+":sha256-"+h.Hex))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := v1.NewHash(unsigned)
	if err := remote.WriteIndex(mustTag(t, repo+":sha256-"+u.Hex), idx); err != nil {
		t.Fatal(err)
	}
	want(t, run(t, Options{Image: repo + ":unsigned", Keys: []Key{pub}}), false, "no valid signature: malformed: the referrer's subject is not the image")

	// An attestation bundle beside the signature bundle.
	sbom := filepath.Join(t.TempDir(), "sbom.cdx.json")
	os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[]}`), 0o644)
	c.Attest(t, priv, repo+"@"+signed, "cyclonedx", sbom)
	res = run(t, Options{Image: repo + ":signed", Keys: []Key{pub}, Attestation: PredicateTypes["cyclonedx"]})
	want(t, res, true, "")
	if res.Signatures[0].Format != "bundle" || res.Signatures[0].Kind != "attestation" {
		t.Errorf("attestation %+v", res.Signatures[0])
	}
	want(t, run(t, Options{Image: repo + ":signed", Keys: []Key{pub}, Attestation: PredicateTypes["spdx"]}), false, "no valid signature: predicate type ")
	// cosign 3's save keeps only the image in index.json; the bundle's
	// manifest stays in blobs/, where verify finds it.
	dir := filepath.Join(t.TempDir(), "layout")
	c.Run(t, "save", "--dir", dir, repo+":signed")
	want(t, run(t, Options{Layout: dir, Keys: []Key{pub}}), true, "")
	want(t, run(t, Options{Layout: dir, Keys: []Key{otherPub}}), false, "no valid signature: "+ReasonWrongKey)
	want(t, run(t, Options{Layout: dir, Keys: []Key{pub}, Attestation: PredicateTypes["cyclonedx"]}), true, "")

	// The signature still verifies, and only the signature counts as one.
	res = run(t, Options{Image: repo + ":signed", Keys: []Key{pub}})
	want(t, res, true, "")
	if len(res.Signatures) != 1 {
		t.Errorf("%d signatures, want 1 (the attestation is not a signature): %+v", len(res.Signatures), res.Signatures)
	}
}

// TestCosign3Referrers signs with the real cosign 3 on go-containerregistry's
// in-process registry with the referrers API turned on.
func TestCosign3Referrers(t *testing.T) {
	c := cosigntest.V3(t)
	reg := registrytest.StartRegistry(t, registrytest.WithReferrers())
	priv, pub := cosignKeys(t, c)
	repo := reg.Host + "/team/app"
	signed := pushImage(t, repo+":signed", "signed")
	c.Sign(t, priv, repo+"@"+signed)
	h, _ := v1.NewHash(signed)
	if _, err := remote.Head(mustTag(t, repo+":sha256-"+h.Hex)); err == nil {
		t.Fatalf("a fallback tag exists; the bundle should be reachable only through the referrers API")
	}
	idx, err := remote.Referrers(mustTag(t, repo+":x").Context().Digest(signed), remote.WithReferrersTagFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	if im, _ := idx.IndexManifest(); len(im.Manifests) != 1 {
		t.Fatalf("%d referrers, want 1", len(im.Manifests))
	}
	want(t, run(t, Options{Image: repo + ":signed", Keys: []Key{pub}}), true, "")
	_, other := cosignKeys(t, c)
	want(t, run(t, Options{Image: repo + ":signed", Keys: []Key{other}}), false, "no valid signature: "+ReasonWrongKey)
	want(t, run(t, Options{Image: repo + ":signed", Keys: []Key{other, pub}, RequireAll: true}), false, "no valid signature by "+other.Name)
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}
