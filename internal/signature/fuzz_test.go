package signature

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

func seed(f *testing.F, file string) {
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// FuzzSimpleSigning: the payload parser never panics, and what it accepts
// has the type and a digest.
func FuzzSimpleSigning(f *testing.F) {
	seed(f, "simplesigning.json")
	f.Add([]byte(`{"critical":{"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":{"n":1,"b":true,"x":null,"o":{"a":[1]}}}`))
	f.Add([]byte(`{"critical":null}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseSimpleSigning(b)
		if err != nil {
			if !utf8.ValidString(err.Error()) || err.Error() == "" {
				t.Fatalf("bad message %q", err)
			}
			return
		}
		if p.Type != SimpleSigningType || p.Digest == "" {
			t.Fatalf("accepted %+v", p)
		}
	})
}

// FuzzBundle: the bundle parser (sigstore-go's, then our statement
// parser) never panics, and what it accepts holds an in-toto statement with
// a subject or a non-in-toto payload type.
func FuzzBundle(f *testing.F) {
	seed(f, "bundle.json")
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.2","verificationMaterial":{"publicKey":{}},"messageSignature":{"signature":"AA=="}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseBundle(b)
		if err != nil {
			return
		}
		if p.PayloadType == InTotoPayloadType && len(p.Statement.Subjects) == 0 {
			t.Fatalf("accepted a statement without subject")
		}
	})
}

// FuzzEnvelope: the DSSE envelope and statement parsers never panic.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := ParseEnvelope(b); err == nil {
			if len(e.Signatures) == 0 {
				t.Fatal("accepted an envelope without signatures")
			}
			ParseStatement(e.Payload)
		}
	})
}
