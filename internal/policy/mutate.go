package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
)

// Mutation is the outcome of Mutate.
type Mutation struct {
	// Patch is the RFC 6902 JSON Patch, sorted by path; empty when the Pod
	// is left as it is.
	Patch []jsonpatch.Operation
	// Changes names what was changed, one short phrase each, for the
	// audit annotation ("label team=web", "image … pinned to sha256:…").
	Changes []string
	// Object is the mutated Pod's JSON (nil when nothing changed).
	Object []byte
}

// Pinnable lists the images of a Pod that pinning would resolve to a
// digest: those with a tag other than "latest", no digest, from a registry
// pinDigests.registries lists (when it lists any) and — when an
// allowed-registries rule is on — from an allowed registry, so that a Pod
// author cannot make tollgate contact arbitrary hosts. Untagged and latest
// images are never pinned: pinning would launder what the tag rules deny.
func (p *Policy) Pinnable(namespace string, w Workload) []string {
	if !p.pin || p.exempted(namespace, RulePinDigests) {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, u := range w.Images {
		if strings.HasSuffix(u.Field, ".image.reference") {
			continue // image volumes are not rewritten
		}
		img, err := ParseImage(u.Image)
		if err != nil || img.Digest != "" || img.Tag == "" || img.Tag == "latest" {
			continue
		}
		if p.modeIn(namespace, RuleAllowedRegistries, p.registries) != Off && !p.allowed[img.Registry] {
			continue
		}
		if p.pinRegistries != nil && !p.pinRegistries[img.Registry] {
			continue
		}
		if !seen[u.Image] {
			seen[u.Image] = true
			out = append(out, u.Image)
		}
	}
	return out
}

// Mutate computes the JSON Patch for a Pod at creation: labels, default
// service account, security-context defaults where unset, and images
// rewritten to image@digest for those in digests (image → "sha256:…").
// raw is the Pod's JSON as the apiserver sent it.
func (p *Policy) Mutate(namespace string, raw []byte, digests map[string]string) (Mutation, error) {
	var pod map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers byte-identical, so only our changes show in the patch
	if err := dec.Decode(&pod); err != nil {
		return Mutation{}, fmt.Errorf("decoding pod: %w", err)
	}
	if pod == nil {
		return Mutation{}, fmt.Errorf("decoding pod: not an object")
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
		return Mutation{}, fmt.Errorf("decoding pod: no spec")
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
		return m, nil
	}
	modified, err := json.Marshal(pod)
	if err != nil {
		return Mutation{}, fmt.Errorf("encoding pod: %w", err)
	}
	ops, err := jsonpatch.CreatePatch(raw, modified)
	if err != nil {
		return Mutation{}, fmt.Errorf("creating patch: %w", err)
	}
	// CreatePatch walks maps in random order. Our operations never depend
	// on each other (no array changes length), so sorting is safe and
	// makes the patch deterministic.
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Path < ops[j].Path })
	m.Patch = ops
	m.Object = modified
	return m, nil
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
