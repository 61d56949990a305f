package policy

import (
	"encoding/json"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	"gomodules.xyz/jsonpatch/v2"
)

const mutatingPolicy = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  images:
    allowedRegistries: {mode: enforce, registries: [reg.io, docker.io]}
  mutations:
    labels: {tollgate.dev/admitted: "true", team: platform}
    defaultServiceAccount: restricted
    securityContext:
      runAsNonRoot: true
      seccompRuntimeDefault: true
      allowPrivilegeEscalationFalse: true
      dropAllCapabilities: true
    pinDigests: {enabled: true}
  exemptions:
  - namespaces: [ops]
    rules: [securityContext, labels]
`

func TestMutate(t *testing.T) {
	t.Parallel()
	pol := mustParse(t, mutatingPolicy)
	// What the apiserver sends after its defaulting and the ServiceAccount
	// plugin: empty pod securityContext, serviceAccount(Name) "default".
	apiserverPod := `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","labels":{"team":"web"}},
"spec":{"containers":[{"name":"app","image":"reg.io/app:1.2","resources":{},"securityContext":{"capabilities":{"add":["NET_BIND_SERVICE"]}}},
{"name":"side","image":"nginx:1.16","securityContext":{"privileged":true}}],
"initContainers":[{"name":"init","image":"busybox:latest"}],
"restartPolicy":"Always","terminationGracePeriodSeconds":30,"serviceAccountName":"default","serviceAccount":"default","securityContext":{},"priority":0}}`
	digests := map[string]string{"reg.io/app:1.2": testDigest}
	tests := []struct {
		name    string
		ns      string
		pod     string
		digests map[string]string
		want    []jsonpatch.Operation
		changes []string
	}{
		{
			name: "all", pod: apiserverPod, digests: digests,
			want: []jsonpatch.Operation{
				{Operation: "add", Path: "/metadata/labels/tollgate.dev~1admitted", Value: "true"},
				{Operation: "replace", Path: "/spec/containers/0/image", Value: "reg.io/app:1.2@" + testDigest},
				{Operation: "add", Path: "/spec/containers/0/securityContext/allowPrivilegeEscalation", Value: false},
				{Operation: "add", Path: "/spec/containers/0/securityContext/capabilities/drop", Value: []any{"ALL"}},
				{Operation: "add", Path: "/spec/containers/1/securityContext/capabilities", Value: map[string]any{"drop": []any{"ALL"}}},
				{Operation: "add", Path: "/spec/initContainers/0/securityContext", Value: map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}},
				{Operation: "add", Path: "/spec/securityContext/runAsNonRoot", Value: true},
				{Operation: "add", Path: "/spec/securityContext/seccompProfile", Value: map[string]any{"type": "RuntimeDefault"}},
				{Operation: "replace", Path: "/spec/serviceAccount", Value: "restricted"},
				{Operation: "replace", Path: "/spec/serviceAccountName", Value: "restricted"},
			},
			changes: []string{"label tollgate.dev/admitted=true", "serviceAccountName restricted", "runAsNonRoot", "seccompProfile RuntimeDefault",
				"container app allowPrivilegeEscalation=false", "container app drop ALL", "container side drop ALL",
				"container init allowPrivilegeEscalation=false", "container init drop ALL",
				"image reg.io/app:1.2 pinned to " + testDigest},
		},
		{
			name: "exempt namespace keeps account and pinning", ns: "ops", pod: apiserverPod, digests: digests,
			want: []jsonpatch.Operation{
				{Operation: "replace", Path: "/spec/containers/0/image", Value: "reg.io/app:1.2@" + testDigest},
				{Operation: "replace", Path: "/spec/serviceAccount", Value: "restricted"},
				{Operation: "replace", Path: "/spec/serviceAccountName", Value: "restricted"},
			},
			changes: []string{"serviceAccountName restricted", "image reg.io/app:1.2 pinned to " + testDigest},
		},
		{
			name: "already hardened: nothing to do",
			pod: `{"metadata":{"labels":{"tollgate.dev/admitted":"no","team":"x"}},"spec":{"serviceAccountName":"app",
"securityContext":{"runAsNonRoot":false,"seccompProfile":{"type":"Unconfined"}},
"containers":[{"name":"a","image":"reg.io/a:1@` + testDigest + `","securityContext":{"allowPrivilegeEscalation":true,"capabilities":{"drop":[]}}}]}}`,
			digests: map[string]string{},
		},
		{
			name: "no labels, no securityContext",
			pod:  `{"metadata":{"name":"x"},"spec":{"containers":[{"name":"a","image":"reg.io/a:1"}]}}`,
			want: []jsonpatch.Operation{
				{Operation: "add", Path: "/metadata/labels", Value: map[string]any{"team": "platform", "tollgate.dev/admitted": "true"}},
				{Operation: "add", Path: "/spec/containers/0/securityContext", Value: map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}},
				{Operation: "add", Path: "/spec/securityContext", Value: map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}},
				{Operation: "add", Path: "/spec/serviceAccountName", Value: "restricted"},
			},
			changes: []string{"label team=platform", "label tollgate.dev/admitted=true", "serviceAccountName restricted", "runAsNonRoot", "seccompProfile RuntimeDefault",
				"container a allowPrivilegeEscalation=false", "container a drop ALL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := pol.Mutate(tt.ns, []byte(tt.pod), tt.digests)
			if err != nil {
				t.Fatalf("Mutate: %v", err)
			}
			if diff := cmp.Diff(tt.want, m.Patch); diff != "" {
				t.Errorf("patch mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.changes, m.Changes); diff != "" {
				t.Errorf("changes mismatch (-want +got):\n%s", diff)
			}
			if len(m.Patch) == 0 {
				return
			}
			// The patch applies to the original and mutating the result
			// again changes nothing (reinvocationPolicy: IfNeeded).
			raw, err := json.Marshal(m.Patch)
			if err != nil {
				t.Fatal(err)
			}
			p, err := jsonpatchapply.DecodePatch(raw)
			if err != nil {
				t.Fatalf("DecodePatch: %v", err)
			}
			patched, err := p.Apply([]byte(tt.pod))
			if err != nil {
				t.Fatalf("applying patch: %v", err)
			}
			again, err := pol.Mutate(tt.ns, patched, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Patch) != 0 {
				t.Errorf("second Mutate is not empty: %+v", again.Patch)
			}
		})
	}
}

func TestMutateErrors(t *testing.T) {
	t.Parallel()
	pol := mustParse(t, mutatingPolicy)
	for _, raw := range []string{``, `null`, `[]`, `{"spec":`, `{"metadata":{}}`} {
		if _, err := pol.Mutate("", []byte(raw), nil); err == nil {
			t.Errorf("Mutate(%q): want an error", raw)
		}
	}
}

func TestPinnable(t *testing.T) {
	t.Parallel()
	pol := mustParse(t, mutatingPolicy)
	raw := []byte(`{"kind":"Pod","spec":{"containers":[{"name":"a","image":"reg.io/app:1"},{"name":"b","image":"reg.io/app:1"},
{"name":"c","image":"reg.io/app"},{"name":"d","image":"reg.io/app:latest"},{"name":"e","image":"evil.io/app:1"},
{"name":"f","image":"reg.io/app:2@` + testDigest + `"},{"name":"g","image":"nginx:1.16"}],
"volumes":[{"name":"v","image":{"reference":"reg.io/data:1"}}]}}`)
	w, _, err := DecodeWorkload("", raw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"reg.io/app:1", "nginx:1.16"}, pol.Pinnable("", w)); diff != "" {
		t.Errorf("Pinnable mismatch (-want +got):\n%s", diff)
	}
	only := mustParse(t, "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  mutations:\n    pinDigests: {enabled: true, registries: [docker.io]}\n")
	if diff := cmp.Diff([]string{"nginx:1.16"}, only.Pinnable("", w)); diff != "" {
		t.Errorf("Pinnable with pinDigests.registries mismatch (-want +got):\n%s", diff)
	}
	if got := Default().Pinnable("", w); got != nil {
		t.Errorf("Default().Pinnable = %v, want nil (pinning off)", got)
	}
}
