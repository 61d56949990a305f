package policy

// The reference implementation of Mutate: mutate the whole Pod as a generic
// document and diff it with jsonpatch.CreatePatch. Slow, but obviously
// right; Mutate must produce the same changes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"gomodules.xyz/jsonpatch/v2"
)

func (p *Policy) mutateByDiff(namespace string, raw []byte, digests map[string]string) (Mutation, []byte, error) {
	var pod map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers byte-identical, so only our changes show in the patch
	if err := dec.Decode(&pod); err != nil {
		return Mutation{}, nil, fmt.Errorf("decoding pod: %w", err)
	}
	if pod == nil {
		return Mutation{}, nil, fmt.Errorf("decoding pod: not an object")
	}
	var m Mutation
	on := func(r RuleID) bool { return !p.exempted(namespace, r) }

	if len(p.labels) > 0 && on(RuleLabels) {
		labels := lookup(pod, "metadata", "labels")
		for _, k := range sortedKeys(p.labels) {
			if _, ok := labels[k]; !ok {
				ensure(pod, "metadata", "labels")[k] = p.labels[k]
				m.Changes = append(m.Changes, fmt.Sprintf("label %s=%s", k, p.labels[k]))
			}
		}
	}
	spec := lookup(pod, "spec")
	if spec == nil {
		return Mutation{}, nil, fmt.Errorf("decoding pod: no spec")
	}
	if sa := p.serviceAccount; sa != "" && on(RuleDefaultServiceAccount) {
		// The ServiceAccount admission plugin runs first and fills in
		// "default"; the deprecated serviceAccount field mirrors it.
		cur, _ := spec["serviceAccountName"].(string)
		if cur == "" || cur == "default" {
			spec["serviceAccountName"] = sa
			if _, ok := spec["serviceAccount"]; ok {
				spec["serviceAccount"] = sa
			}
			m.Changes = append(m.Changes, "serviceAccountName "+sa)
		}
	}
	if sc := p.secCtx; on(RuleSecurityContext) {
		psc := lookup(spec, "securityContext")
		if sc.RunAsNonRoot && unset(psc, "runAsNonRoot") {
			ensure(spec, "securityContext")["runAsNonRoot"] = true
			m.Changes = append(m.Changes, "runAsNonRoot")
		}
		if sc.SeccompRuntimeDefault && unset(psc, "seccompProfile") {
			ensure(spec, "securityContext")["seccompProfile"] = map[string]any{"type": "RuntimeDefault"}
			m.Changes = append(m.Changes, "seccompProfile RuntimeDefault")
		}
		for _, field := range []string{"containers", "initContainers"} {
			list, _ := spec[field].([]any)
			for _, c := range list {
				cm, ok := c.(map[string]any)
				if !ok {
					continue
				}
				name, _ := cm["name"].(string)
				csc := lookup(cm, "securityContext")
				// A privileged container always escalates: the apiserver
				// refuses allowPrivilegeEscalation: false next to
				// privileged: true, so leave those alone.
				priv, _ := csc["privileged"].(bool)
				if sc.AllowPrivilegeEscalationFalse && !priv && unset(csc, "allowPrivilegeEscalation") {
					ensure(cm, "securityContext")["allowPrivilegeEscalation"] = false
					m.Changes = append(m.Changes, fmt.Sprintf("container %s allowPrivilegeEscalation=false", name))
				}
				if sc.DropAllCapabilities && unset(lookup(csc, "capabilities"), "drop") {
					ensure(cm, "securityContext", "capabilities")["drop"] = []any{"ALL"}
					m.Changes = append(m.Changes, fmt.Sprintf("container %s drop ALL", name))
				}
			}
		}
	}
	if len(digests) > 0 && on(RulePinDigests) {
		for _, field := range []string{"containers", "initContainers", "ephemeralContainers"} {
			list, _ := spec[field].([]any)
			for _, c := range list {
				cm, ok := c.(map[string]any)
				if !ok {
					continue
				}
				img, _ := cm["image"].(string)
				if d, ok := digests[img]; ok && d != "" {
					cm["image"] = img + "@" + d
					m.Changes = append(m.Changes, fmt.Sprintf("image %s pinned to %s", img, d))
				}
			}
		}
	}
	if len(m.Changes) == 0 {
		return m, raw, nil
	}
	modified, err := json.Marshal(pod)
	if err != nil {
		return Mutation{}, nil, fmt.Errorf("encoding pod: %w", err)
	}
	ops, err := jsonpatch.CreatePatch(raw, modified)
	if err != nil {
		return Mutation{}, nil, fmt.Errorf("creating patch: %w", err)
	}
	// CreatePatch walks maps in random order. Our operations never depend
	// on each other (no array changes length), so sorting is safe and
	// makes the patch deterministic.
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Path < ops[j].Path })
	m.Patch = ops
	return m, modified, nil
}

// lookup follows keys through nested objects; nil when one is absent or
// not an object.
func lookup(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		c, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = c
	}
	return m
}

// ensure follows keys through nested objects, creating those that are
// absent or null.
func ensure(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		c, ok := m[k].(map[string]any)
		if !ok {
			c = map[string]any{}
			m[k] = c
		}
		m = c
	}
	return m
}

// unset reports whether m (which may be nil) lacks key or holds null there.
func unset(m map[string]any, key string) bool {
	v, ok := m[key]
	return !ok || v == nil
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(a, b []byte) bool {
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// checkAgainstOracle mutates raw both ways and compares the results.
func checkAgainstOracle(t *testing.T, pol *Policy, ns string, raw []byte, digests map[string]string) {
	t.Helper()
	want, wantDoc, wantErr := pol.mutateByDiff(ns, raw, digests)
	got, gotErr := pol.Mutate(ns, raw, digests)
	if gotErr != nil {
		// Mutate refuses Pods with fields of the wrong JSON type (the
		// webhook answers 400); the reference is more lenient. The
		// apiserver never sends such Pods.
		return
	}
	if wantErr != nil {
		t.Fatalf("the reference refuses %s (%v) but Mutate accepts it", raw, wantErr)
	}
	sortedChanges := func(c []string) []string {
		c = append([]string(nil), c...)
		sort.Strings(c)
		return c
	}
	if !reflect.DeepEqual(sortedChanges(want.Changes), sortedChanges(got.Changes)) {
		t.Fatalf("changes differ for %s:\nreference %q\nMutate    %q", raw, want.Changes, got.Changes)
	}
	gotDoc, err := got.Apply(raw)
	if err != nil {
		t.Fatalf("applying Mutate's patch %+v to %s: %v", got.Patch, raw, err)
	}
	if !sameJSON(wantDoc, gotDoc) {
		t.Fatalf("documents differ for %s:\nreference %s\nMutate    %s\npatch %+v", raw, wantDoc, gotDoc, got.Patch)
	}
	_ = jsonpatch.Operation{}
}

var oraclePods = []string{
	`{"metadata":{"name":"x"},"spec":{"containers":[{"name":"a","image":"reg.io/a:1"}]}}`,
	`{"metadata":null,"spec":{"securityContext":null,"containers":[{"name":"a","image":"reg.io/a:1","securityContext":null}]}}`,
	`{"metadata":{"labels":null},"spec":{"serviceAccountName":"","containers":[{"name":"a","securityContext":{"capabilities":null}}]}}`,
	`{"metadata":{"labels":{"team":"x","a/b~c":"y"}},"spec":{"serviceAccountName":"default","serviceAccount":"default","securityContext":{},` +
		`"containers":[{"name":"a","image":"reg.io/a:1","securityContext":{"privileged":true,"capabilities":{"add":["X"]}}},{"name":"b","image":"nginx:1.16","securityContext":{"allowPrivilegeEscalation":null,"capabilities":{"drop":null}}}],` +
		`"initContainers":[{"name":"i","image":"reg.io/a:1"}],"ephemeralContainers":[{"name":"e","image":"reg.io/a:1"}]}}`,
	`{"spec":{"serviceAccountName":"app","securityContext":{"runAsNonRoot":false,"seccompProfile":{"type":"Unconfined"}},"containers":[]}}`,
	`{"spec":{"containers":[{"securityContext":{"allowPrivilegeEscalation":true,"capabilities":{"drop":[]}}}]}}`,
}

func TestMutateMatchesReference(t *testing.T) {
	t.Parallel()
	pol := mustParse(t, mutatingPolicy)
	digests := map[string]string{"reg.io/a:1": testDigest}
	for _, raw := range oraclePods {
		for _, ns := range []string{"", "ops"} {
			checkAgainstOracle(t, pol, ns, []byte(raw), digests)
		}
	}
}

// FuzzMutate checks Mutate against the reference on arbitrary Pods.
func FuzzMutate(f *testing.F) {
	for _, raw := range oraclePods {
		f.Add([]byte(raw), false)
		f.Add([]byte(raw), true)
	}
	pol, err := Parse([]byte(mutatingPolicy))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte, exempt bool) {
		var probe map[string]any
		if json.Unmarshal(raw, &probe) != nil {
			return // not an object: both refuse it, nothing to compare
		}
		ns := ""
		if exempt {
			ns = "ops"
		}
		checkAgainstOracle(t, pol, ns, raw, map[string]string{"reg.io/a:1": testDigest})
	})
}
