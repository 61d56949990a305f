package signature

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSimpleSigning(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "simplesigning.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseSimpleSigning(good)
	if err != nil || p.DockerReference != "registry.example.com/team/app" || p.Annotations["team"] != "payments" {
		t.Fatalf("%+v, %v", p, err)
	}
	tests := []struct{ in, msg string }{
		{``, "empty or truncated JSON"},
		{`{"critical":`, "empty or truncated JSON"},
		{`{"critical":1}`, "the wrong type"},
		{`{"critical":{}} x`, "data after the JSON document"},
		{`[`, "truncated"},
		{`{"critical":{"type":"cosign container image signature"}}`, "no critical.image"},
		{`{"critical":{"image":{},"type":"cosign container image signature"}}`, "names no image digest"},
		{`{"critical":{"image":{"docker-manifest-digest":"sha256:00"},"type":"x"}}`, `payload type is "x"`},
	}
	for _, tt := range tests {
		_, err := ParseSimpleSigning([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), "json:") || strings.Contains(err.Error(), "Go ") {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.msg)
		}
	}
}

func TestParseBundle(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseBundle(good)
	if err != nil || p.Statement.PredicateType != CosignSignPredicateType || len(p.Statement.Subjects) != 1 {
		t.Fatalf("%+v, %v", p, err)
	}
	tests := []struct{ in, msg string }{
		{`nope`, "not a valid Sigstore bundle"},
		{`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`, "not a valid Sigstore bundle"},
		{`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"signature":"AA=="}}`, "no DSSE envelope"},
		{strings.Replace(string(good), `"payload":"eyJf`, `"payload":"e30`, 1), "not an in-toto statement"},
	}
	for _, tt := range tests {
		_, err := ParseBundle([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%.60q: %v, want %q", tt.in, err, tt.msg)
		}
	}
}

func TestParseKeys(t *testing.T) {
	k := newTestKey(t, "ecdsa-p256")
	two := append(pemPublic(t, k.priv.Public()), pemPublic(t, newTestKey(t, "ed25519").priv.Public())...)
	keys, err := ParseKeys(two, "keys.pem")
	if err != nil || len(keys) != 2 || keys[0].Name != "keys.pem#1" || keys[1].Algorithm != "ed25519" || keys[0].ID != k.pub.ID {
		t.Fatalf("%+v, %v", keys, err)
	}
	tests := []struct{ in, msg string }{
		{"", "no PEM public key found"},
		{"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", "is a private key"},
		{"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a valid public key"},
	}
	for _, tt := range tests {
		_, err := ParseKeys([]byte(tt.in), "k.pub")
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.msg)
		}
	}
}
