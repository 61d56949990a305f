package signature

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// SimpleSigningType is the critical.type of a cosign image signature.
const SimpleSigningType = "cosign container image signature"

// SimpleSigning is the payload cosign signs in its legacy scheme (Red
// Hat's "simple signing" format as cosign writes it).
type SimpleSigning struct {
	// DockerReference is the repository the signer named (informational:
	// cosign does not check it, and neither do we unless a policy asks).
	DockerReference string
	// Digest is the manifest digest the payload vouches for.
	Digest string
	// Type must be SimpleSigningType.
	Type string
	// Annotations are the payload's optional claims (cosign sign -a k=v).
	Annotations map[string]string
}

type simpleSigningJSON struct {
	Critical *struct {
		Identity *struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image *struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// ParseSimpleSigning parses a simple-signing payload. It checks the shape
// only; whether the digest is the image's is the caller's question.
func ParseSimpleSigning(b []byte) (SimpleSigning, error) {
	var p simpleSigningJSON
	if err := strictJSON(b, &p); err != nil {
		return SimpleSigning{}, fmt.Errorf("payload is not a simple-signing document: %w", err)
	}
	if p.Critical == nil || p.Critical.Image == nil {
		return SimpleSigning{}, errors.New("payload is not a simple-signing document: no critical.image")
	}
	s := SimpleSigning{Digest: p.Critical.Image.DockerManifestDigest, Type: p.Critical.Type}
	if p.Critical.Identity != nil {
		s.DockerReference = p.Critical.Identity.DockerReference
	}
	if s.Type != SimpleSigningType {
		return SimpleSigning{}, fmt.Errorf("payload type is %q, not %q", s.Type, SimpleSigningType)
	}
	if s.Digest == "" {
		return SimpleSigning{}, errors.New("payload names no image digest")
	}
	s.Annotations = stringMap(p.Optional)
	return s, nil
}

// stringMap renders claim values as strings: strings as they are, other
// JSON values in their JSON form (cosign -a only writes strings).
func stringMap(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case nil:
			out[k] = "null"
		case bool:
			out[k] = strconv.FormatBool(x)
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}

// strictJSON decodes one JSON value, refusing trailing data, and phrases
// errors without Go type names.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errors.New("data after the JSON document")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Errorf("field %q has the wrong type (%s)", te.Field, te.Value)
		}
		return fmt.Errorf("unexpected JSON %s", te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("empty or truncated JSON")
	}
	return errors.New("invalid JSON")
}

// InTotoPayloadType is the DSSE payload type of an in-toto statement.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Statement is an in-toto statement (v0.1 or v1), the payload of an
// attestation and of a cosign 3 image signature.
type Statement struct {
	Type          string
	PredicateType string
	Subjects      []Subject
	// Predicate is the raw predicate JSON.
	Predicate json.RawMessage
}

// Subject is one subject of a statement.
type Subject struct {
	Name        string
	Digest      map[string]string
	Annotations map[string]string
}

type statementJSON struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name        string            `json:"name"`
		Digest      map[string]string `json:"digest"`
		Annotations map[string]any    `json:"annotations"`
	} `json:"subject"`
	Predicate json.RawMessage `json:"predicate"`
}

// ParseStatement parses an in-toto statement.
func ParseStatement(b []byte) (Statement, error) {
	var j statementJSON
	if err := strictJSON(b, &j); err != nil {
		return Statement{}, fmt.Errorf("payload is not an in-toto statement: %w", err)
	}
	switch j.Type {
	case "https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1":
	default:
		return Statement{}, fmt.Errorf("payload is not an in-toto statement (type %q)", j.Type)
	}
	if j.PredicateType == "" {
		return Statement{}, errors.New("in-toto statement has no predicateType")
	}
	if len(j.Subject) == 0 {
		return Statement{}, errors.New("in-toto statement has no subject")
	}
	s := Statement{Type: j.Type, PredicateType: j.PredicateType, Predicate: j.Predicate}
	for _, sub := range j.Subject {
		s.Subjects = append(s.Subjects, Subject{Name: sub.Name, Digest: sub.Digest, Annotations: stringMap(sub.Annotations)})
	}
	return s, nil
}

// subjectFor returns the subject naming digest ("sha256:…"), if any.
func (s Statement) subjectFor(digest string) (Subject, bool) {
	algo, hexd, ok := cutDigest(digest)
	if !ok {
		return Subject{}, false
	}
	for _, sub := range s.Subjects {
		if v, ok := sub.Digest[algo]; ok && v == hexd {
			return sub, true
		}
	}
	return Subject{}, false
}

// digests lists the statement's subject digests, for messages.
func (s Statement) digests() []string {
	var out []string
	for _, sub := range s.Subjects {
		if v, ok := sub.Digest["sha256"]; ok {
			out = append(out, "sha256:"+v)
		}
	}
	return out
}

// Envelope is a DSSE envelope: what cosign 2 stores for an attestation,
// and what a Sigstore bundle wraps.
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signatures  [][]byte
}

type envelopeJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// ParseEnvelope parses a DSSE envelope (JSON, base64 payload and signatures).
func ParseEnvelope(b []byte) (Envelope, error) {
	var j envelopeJSON
	if err := strictJSON(b, &j); err != nil {
		return Envelope{}, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if j.PayloadType == "" {
		return Envelope{}, errors.New("not a DSSE envelope: no payloadType")
	}
	payload, err := decodeBase64(j.Payload)
	if err != nil {
		return Envelope{}, fmt.Errorf("DSSE payload is not base64")
	}
	e := Envelope{PayloadType: j.PayloadType, Payload: payload}
	for i, s := range j.Signatures {
		sig, err := decodeBase64(s.Sig)
		if err != nil {
			return Envelope{}, fmt.Errorf("DSSE signature %d is not base64", i+1)
		}
		e.Signatures = append(e.Signatures, sig)
	}
	if len(e.Signatures) == 0 {
		return Envelope{}, errors.New("DSSE envelope holds no signature")
	}
	return e, nil
}

// PAE is DSSE's pre-authentication encoding, the bytes actually signed.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "DSSEv1 %d %s %d ", len(payloadType), payloadType, len(payload))
	b.Write(payload)
	return b.Bytes()
}

// decodeBase64 accepts standard and URL-safe base64, padded or not (DSSE
// allows both alphabets).
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

func cutDigest(d string) (algo, hexd string, ok bool) {
	for i := 0; i < len(d); i++ {
		if d[i] == ':' {
			return d[:i], d[i+1:], i > 0 && i < len(d)-1
		}
	}
	return "", "", false
}
