package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sigPolicy = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  signatures:
    rules:
    - name: team
      images: [registry.example.com/team/*]
      keys:
      - publicKeyFile: ci.pub
      - name: release
        publicKey: |
          -----BEGIN PUBLIC KEY-----
          AAAA
          -----END PUBLIC KEY-----
      require: allOf
      annotations: {ref: main}
      attestations: [cyclonedx]
      exemptNamespaces: [sandbox]
    - name: hub
      images: [docker.io/library/**]
      keys: [{publicKeyFile: hub.pub}]
      mode: warn
      onError: allow
    - name: off
      images: [registry.example.com/**]
      keys: [{publicKeyFile: ci.pub}]
      mode: off
`

func readFake(p string) ([]byte, error) {
	if p == "missing.pub" {
		return nil, errors.New("no such file")
	}
	return []byte("PEM of " + p), nil
}

func TestSignatureRequirements(t *testing.T) {
	sp, err := ParseSignatures([]byte(sigPolicy), readFake)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		image, ns string
		rules     []string
	}{
		{"registry.example.com/team/app:1", "default", []string{"team"}},
		{"registry.example.com/team/app@sha256:" + strings.Repeat("a", 64), "", []string{"team"}},
		{"registry.example.com/team/app:1", "sandbox", nil},
		{"registry.example.com/team/sub/app:1", "default", nil},
		{"registry.example.com/other:1", "default", nil},
		{"nginx:1.27", "default", []string{"hub"}},
		{"docker.io/library/nginx:1.27", "default", []string{"hub"}},
		{"quay.io/library/nginx:1.27", "default", nil},
	}
	for _, tt := range tests {
		reqs, err := sp.Requirements(tt.image, tt.ns)
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		var got []string
		for _, r := range reqs {
			got = append(got, r.Rule)
		}
		if diff := cmp.Diff(tt.rules, got); diff != "" {
			t.Errorf("%s in %s (-want +got):\n%s", tt.image, tt.ns, diff)
		}
	}
	reqs, _ := sp.Requirements("registry.example.com/team/app:1", "")
	r := reqs[0]
	if !r.RequireAll || r.Mode != Enforce || r.OnErrorAllow || len(r.Keys) != 2 || r.Keys[0].Name != "ci.pub" || string(r.Keys[0].PEM) != "PEM of ci.pub" ||
		r.Keys[1].Name != "release" || r.Annotations["ref"] != "main" || r.Attestations[0] != "cyclonedx" {
		t.Errorf("requirement %+v", r)
	}
}

func TestSignaturePolicyErrors(t *testing.T) {
	head := "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  signatures:\n    rules:\n"
	tests := []struct{ rules, msg string }{
		{"    - images: [registry.example.com/x]\n      keys: [{publicKeyFile: k}]\n      mode: loud\n", `mode: "loud" is not one of`},
		{"    - images: [registry.example.com/x]\n      keys: [{publicKeyFile: k}]\n      require: most\n", `require: "most" is not anyOf or allOf`},
		{"    - images: [registry.example.com/x]\n      keys: [{publicKeyFile: k}]\n      onError: retry\n", `onError: "retry" is not allow or deny`},
		{"    - keys: [{publicKeyFile: k}]\n", "images: at least one"},
		{"    - images: [nginx]\n      keys: [{publicKeyFile: k}]\n", "must be registry/repository"},
		{"    - images: [registry.example.com/x]\n", "keys: at least one key"},
		{"    - images: [registry.example.com/x]\n      keys: [{}]\n", "exactly one of publicKey and publicKeyFile"},
		{"    - images: [registry.example.com/x]\n      keys: [{publicKeyFile: missing.pub}]\n", "publicKeyFile: no such file"},
		{"    - images: [registry.example.com/x]\n      keys: [{publicKeyFile: k}]\n      colour: red\n", `colour: unknown key`},
	}
	for _, tt := range tests {
		_, err := ParseSignatures([]byte(head+tt.rules), readFake)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %q", tt.rules, err, tt.msg)
		}
	}
}

func TestDecideSignature(t *testing.T) {
	req := SignatureRequirement{Rule: "team", Mode: Enforce}
	if f := DecideSignature("app:1", "sha256:ab", req, SignatureOutcome{}); f != nil {
		t.Errorf("verified image got %+v", f)
	}
	f := DecideSignature("app:1", "sha256:ab", req, SignatureOutcome{Failures: []string{"no signatures found"}})
	if f == nil || f.Mode != Enforce || f.Message != `image app:1 (sha256:ab): no signatures found (rule "team")` {
		t.Errorf("unsigned: %+v", f)
	}
	f = DecideSignature("app:1", "", req, SignatureOutcome{Err: errors.New("registry down")})
	if f == nil || f.Mode != Enforce || !strings.Contains(f.Message, "cannot be checked: registry down") {
		t.Errorf("onError deny: %+v", f)
	}
	req.OnErrorAllow = true
	f = DecideSignature("app:1", "", req, SignatureOutcome{Err: errors.New("registry down")})
	if f == nil || f.Mode != Warn {
		t.Errorf("onError allow: %+v", f)
	}
}

// TestImagePatterns: "REG/**" is every repository of the registry at any
// depth (it used to match one path element only, letting deeper images
// slip past every rule scoped that way).
func TestImagePatterns(t *testing.T) {
	tests := []struct {
		pattern, image string
		want           bool
	}{
		{"reg.io/**", "reg.io/app:1", true},
		{"reg.io/**", "reg.io/team/app:1", true},
		{"reg.io/**", "reg.io/a/b/c/app:1", true},
		{"reg.io/**", "other.io/team/app:1", false},
		{"reg.io/team/**", "reg.io/team/app:1", true},
		{"reg.io/team/**", "reg.io/team/sub/app:1", true},
		{"reg.io/team/**", "reg.io/teamx/app:1", false},
		{"reg.io/team/*", "reg.io/team/app:1", true},
		{"reg.io/team/*", "reg.io/team/sub/app:1", false},
		{"reg.io/*", "reg.io/team/app:1", false},
		{"docker.io/**", "nginx:1", true},
		{"127.0.0.1:5000/**", "127.0.0.1:5000/shop/vuln:1", true},
	}
	for _, tt := range tests {
		ip, err := parseImagePattern(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		img, err := ParseImage(tt.image)
		if err != nil {
			t.Fatal(err)
		}
		if got := ip.match(img); got != tt.want {
			t.Errorf("%s matches %s: %t, want %t", tt.pattern, tt.image, got, tt.want)
		}
	}
}
