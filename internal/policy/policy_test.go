package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, wantErr string
	}{
		{"empty", "", "empty policy document"},
		{"version", "apiVersion: tollgate.dev/v1\nkind: Policy\n", `apiVersion "tollgate.dev/v1" is not supported`},
		{"kind", "apiVersion: tollgate.dev/v1alpha1\nkind: Pod\n", `kind "Pod" is not supported`},
		{"unknown field", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  imagez: {}\n", `imagez: unknown key`},
		{"bad mode", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  images:\n    denyLatest: {mode: block}\n",
			`spec.images.denyLatest.mode: "block" is not one of enforce, warn, audit, off`},
		{"empty registries", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  images:\n    allowedRegistries: {mode: enforce}\n",
			"spec.images.allowedRegistries.registries: empty list"},
		{"registry with path", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  images:\n    allowedRegistries: {mode: enforce, registries: [reg.io/team]}\n",
			`spec.images.allowedRegistries.registries[0]: registry "reg.io/team" must be a host or host:port`},
		{"unknown exempt rule", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  exemptions:\n  - namespaces: [a]\n    rules: [nope]\n",
			`spec.exemptions[0].rules: unknown rule "nope"`},
		{"pin timeout", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  mutations:\n    pinDigests: {enabled: true, timeoutSeconds: 60}\n",
			"spec.mutations.pinDigests.timeoutSeconds: 60 is outside 0–30"},
		{"not yaml", "apiVersion: [", "YAML document 1: line 1: did not find expected node content"},
		{"later document ignored", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n---\n{{{garbage\n", "YAML document 2: "},
		{"two policies", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n---\napiVersion: tollgate.dev/v1alpha1\nkind: Policy\n", "the file holds 2 YAML documents"},
		{"Go type of the file", "- a\n", "a list is not allowed here, want a mapping"},
		{"Go type of a field", "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec: {images: 3}\n", "spec.images: a number is not allowed here, want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
			for _, internal := range []string{"Go ", "json:", "YAML to JSON", "policy.File"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("Parse error %q shows the decoder's %q", err, internal)
				}
			}
		})
	}
}

func TestReviewImages(t *testing.T) {
	t.Parallel()
	strict := `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata: {name: strict}
spec:
  images:
    requireDigest: {mode: warn}
    allowedRegistries: {mode: enforce, registries: [registry.io, "docker.io", "registry.local:5000"]}
  exemptions:
  - namespaces: [legacy]
    rules: [denyLatest, requireDigest]
  - namespaces: [sandbox]
`
	modes := `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  images:
    requireTag: {mode: warn}
    denyLatest: {mode: audit}
`
	noGlass := `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  breakGlass: {enabled: false}
`
	glass := map[string]string{"mycluster.image-policy.k8s.io/break-glass": "true"}
	tests := []struct {
		name        string
		policy      *Policy
		ns          string
		images      []string
		annotations map[string]string
		allowed     bool
		reason      string // the exact denial reason
		reasonPart  string // or a part of it
		audit       map[string]string
	}{
		{name: "tagged", policy: Default(), images: []string{"nginx:1.16"}, allowed: true},
		{name: "no tag", policy: Default(), images: []string{"nginx"}, reason: `image "nginx" has no tag`},
		{name: "latest", policy: Default(), images: []string{"nginx:latest"}, reason: `image "nginx:latest" uses tag latest`},
		{name: "port is not a tag", policy: Default(), images: []string{"registry.local:5000/foo/bar"},
			reason: `image "registry.local:5000/foo/bar" has no tag`},
		{name: "port and tag", policy: Default(), images: []string{"registry.local:5000/foo/bar:2.0"}, allowed: true},
		{name: "digest only", policy: Default(), images: []string{"nginx@" + testDigest}, allowed: true},
		{name: "latest pinned", policy: Default(), images: []string{"nginx:latest@" + testDigest}, allowed: true},
		{name: "two bad", policy: Default(), images: []string{"nginx:1.16", "redis:latest", "busybox"},
			reason: `image "redis:latest" uses tag latest; image "busybox" has no tag`},
		{name: "invalid reference", policy: Default(), images: []string{"Nginx:1"},
			reasonPart: `image "Nginx:1" is not a valid reference: `},
		{name: "registry allowed", policy: mustParse(t, strict), images: []string{"registry.io/app:1@" + testDigest}, allowed: true},
		{name: "registry allowed, digest warned", policy: mustParse(t, strict), images: []string{"registry.io/app:1"}, allowed: true,
			audit: map[string]string{"requireDigest": `image "registry.io/app:1" is not pinned by digest`}},
		{name: "registry prefix is not a match", policy: mustParse(t, strict), images: []string{"registry.io.evil.com/app:1@" + testDigest},
			reason: `image "registry.io.evil.com/app:1@` + testDigest + `" is from registry registry.io.evil.com, which is not allowed (allowed: registry.io, index.docker.io, registry.local:5000)`},
		{name: "registry port must match", policy: mustParse(t, strict), images: []string{"registry.io:5000/app@" + testDigest},
			reasonPart: `is from registry registry.io:5000, which is not allowed`},
		{name: "docker hub spelled docker.io", policy: mustParse(t, strict), images: []string{"nginx@" + testDigest}, allowed: true},
		{name: "namespace exempt from latest", policy: mustParse(t, strict), ns: "legacy", images: []string{"registry.io/app:latest"}, allowed: true},
		{name: "namespace exempt keeps registries", policy: mustParse(t, strict), ns: "legacy", images: []string{"evil.io/app:latest"},
			reasonPart: `image "evil.io/app:latest" is from registry evil.io,`},
		{name: "namespace exempt from all", policy: mustParse(t, strict), ns: "sandbox", images: []string{"evil.io/app"}, allowed: true},
		{name: "warn and audit", policy: mustParse(t, modes), images: []string{"nginx", "nginx:latest"}, allowed: true,
			audit: map[string]string{"requireTag": `image "nginx" has no tag`, "denyLatest": `image "nginx:latest" uses tag latest`}},
		{name: "break glass", policy: Default(), images: []string{"nginx"}, annotations: glass, allowed: true,
			audit: map[string]string{"requireTag": `image "nginx" has no tag`, "break-glass": "true"}},
		{name: "break glass false", policy: Default(), images: []string{"nginx"},
			annotations: map[string]string{"x.image-policy.k8s.io/break-glass": "false"}, reason: `image "nginx" has no tag`},
		{name: "break glass wrong key", policy: Default(), images: []string{"nginx"},
			annotations: map[string]string{"image-policy.k8s.io/break-glass": "true"}, reason: `image "nginx" has no tag`},
		{name: "break glass disabled", policy: mustParse(t, noGlass), images: []string{"nginx"}, annotations: glass,
			reason: `image "nginx" has no tag`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.policy.ReviewImages(tt.ns, tt.images, tt.annotations)
			if d.Allowed() != tt.allowed {
				t.Fatalf("Allowed() = %v, want %v (findings %+v)", d.Allowed(), tt.allowed, d.Findings)
			}
			switch {
			case tt.reasonPart != "" && !strings.Contains(d.Reason(), tt.reasonPart):
				t.Errorf("Reason() = %q, want it to contain %q", d.Reason(), tt.reasonPart)
			case tt.reasonPart == "" && d.Reason() != tt.reason:
				t.Errorf("Reason() = %q, want %q", d.Reason(), tt.reason)
			}
			if diff := cmp.Diff(tt.audit, d.AuditAnnotations(true)); diff != "" {
				t.Errorf("AuditAnnotations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultSummary(t *testing.T) {
	t.Parallel()
	want := []string{
		"requireTag: enforce",
		"denyLatest: enforce",
		"requireDigest: off",
		"allowedRegistries: off []",
		"kubesecCritical: off",
		"minimumScore: off 0",
		"breakGlass: enabled",
		"mutations: none",
	}
	if diff := cmp.Diff(want, Default().Summary()); diff != "" {
		t.Errorf("Default().Summary() mismatch (-want +got):\n%s", diff)
	}
}

// TestBareOff: `mode: off` unquoted (YAML 1.1 reads it as false) switches
// a rule off, in block and flow style.
func TestBareOff(t *testing.T) {
	for _, doc := range []string{
		"  images:\n    denyLatest: {mode: off}\n",
		"  images:\n    denyLatest:\n      mode: off\n",
	} {
		p, err := Parse([]byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n" + doc))
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if d := p.ReviewImages("default", []string{"nginx:latest"}, nil); !d.Allowed() {
			t.Errorf("%q: nginx:latest denied: %s", doc, d.Reason())
		}
	}
}
