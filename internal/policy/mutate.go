package policy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"gomodules.xyz/jsonpatch/v2"
	kjson "sigs.k8s.io/json"
)

// Mutation is the outcome of Mutate.
type Mutation struct {
	// Patch is the RFC 6902 JSON Patch, sorted by path; empty when the Pod
	// is left as it is.
	Patch []jsonpatch.Operation
	// Changes names what was changed, one short phrase each, for the
	// audit annotation ("label team=web", "image … pinned to sha256:…").
	Changes []string
}

// Pinnable lists the images of a Pod that pinning would resolve to a
// digest: those with a tag other than "latest", no digest, from a registry
// pinDigests.registries lists (when it lists any) and — when an
// allowed-registries rule is on — from an allowed registry, so that a Pod
// author cannot make tollgate contact arbitrary hosts. Untagged and latest
// images are never pinned: pinning would launder what the tag rules deny.
// Images that spec.signatures rules apply to are pinned whether or not
// pinDigests is on, so that what runs is the digest that was verified.
func (p *Policy) Pinnable(namespace string, w Workload) []string {
	pinAll := p.pin && !p.exempted(namespace, RulePinDigests)
	if !pinAll && len(p.sigs.rules) == 0 {
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
		if reqs, _ := p.SignatureRequirements(namespace, u.Image); len(reqs) > 0 {
			if !seen[u.Image] {
				seen[u.Image] = true
				out = append(out, u.Image)
			}
			continue
		}
		if !pinAll {
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
//
// The operations are built from the few fields the mutations read, not by
// diffing two copies of the whole Pod: at admission rates that halves the
// work. The tests check them against jsonpatch.CreatePatch of the fully
// mutated document.
func (p *Policy) Mutate(namespace string, raw []byte, digests map[string]string) (Mutation, error) {
	var pod podMut
	if err := decodeJSON(raw, &pod); err != nil {
		return Mutation{}, fmt.Errorf("decoding pod: %w", err)
	}
	if pod.Spec == nil {
		return Mutation{}, fmt.Errorf("decoding pod: no spec")
	}
	var m Mutation
	on := func(r RuleID) bool { return !p.exempted(namespace, r) }

	if len(p.labels) > 0 && on(RuleLabels) {
		missing := map[string]any{}
		var have map[string]json.RawMessage
		if pod.Metadata != nil {
			have = pod.Metadata.Labels
		}
		for _, k := range sortedKeys(p.labels) {
			if _, ok := have[k]; !ok {
				missing[k] = p.labels[k]
				m.Changes = append(m.Changes, fmt.Sprintf("label %s=%s", k, p.labels[k]))
			}
		}
		switch {
		case len(missing) == 0:
		case pod.Metadata == nil:
			m.add("/metadata", map[string]any{"labels": missing})
		case pod.Metadata.Labels == nil:
			m.add("/metadata/labels", missing)
		default:
			for _, k := range sortedKeys(missing) {
				m.add("/metadata/labels/"+escapePointer(k), missing[k])
			}
		}
	}
	spec := pod.Spec
	if sa := p.serviceAccount; sa != "" && on(RuleDefaultServiceAccount) {
		// The ServiceAccount admission plugin runs first and fills in
		// "default"; the deprecated serviceAccount field mirrors it.
		cur := ""
		kjson.UnmarshalCaseSensitivePreserveInts(spec.ServiceAccountName, &cur)
		if cur == "" || cur == "default" {
			if unsetRaw(spec.ServiceAccountName) {
				m.add("/spec/serviceAccountName", sa)
			} else {
				m.replace("/spec/serviceAccountName", sa)
			}
			if !unsetRaw(spec.ServiceAccount) {
				m.replace("/spec/serviceAccount", sa)
			}
			m.Changes = append(m.Changes, "serviceAccountName "+sa)
		}
	}
	if sc := p.secCtx; on(RuleSecurityContext) {
		psc := map[string]any{}
		if sc.RunAsNonRoot && (spec.SecurityContext == nil || unsetRaw(spec.SecurityContext.RunAsNonRoot)) {
			psc["runAsNonRoot"] = true
			m.Changes = append(m.Changes, "runAsNonRoot")
		}
		if sc.SeccompRuntimeDefault && (spec.SecurityContext == nil || unsetRaw(spec.SecurityContext.SeccompProfile)) {
			psc["seccompProfile"] = map[string]any{"type": "RuntimeDefault"}
			m.Changes = append(m.Changes, "seccompProfile RuntimeDefault")
		}
		if len(psc) > 0 {
			if spec.SecurityContext == nil {
				m.add("/spec/securityContext", psc)
			} else {
				for _, k := range sortedKeys(psc) {
					m.add("/spec/securityContext/"+k, psc[k])
				}
			}
		}
		for i, c := range spec.Containers {
			m.containerSecurity(sc, "containers", i, c)
		}
		for i, c := range spec.InitContainers {
			m.containerSecurity(sc, "initContainers", i, c)
		}
	}
	if len(digests) > 0 { // Pinnable chose the images, exemptions included
		for _, list := range []struct {
			field string
			cs    []containerMut
		}{{"containers", spec.Containers}, {"initContainers", spec.InitContainers}, {"ephemeralContainers", spec.EphemeralContainers}} {
			for i, c := range list.cs {
				if d, ok := digests[c.Image]; ok && d != "" {
					m.replace(fmt.Sprintf("/spec/%s/%d/image", list.field, i), c.Image+"@"+d)
					m.Changes = append(m.Changes, fmt.Sprintf("image %s pinned to %s", c.Image, d))
				}
			}
		}
	}
	// No operation depends on another (none changes an array's length),
	// so the order is free: sort by path for a deterministic patch.
	sort.SliceStable(m.Patch, func(i, j int) bool { return m.Patch[i].Path < m.Patch[j].Path })
	return m, nil
}

func (m *Mutation) add(path string, v any) {
	m.Patch = append(m.Patch, jsonpatch.NewOperation("add", path, v))
}

func (m *Mutation) replace(path string, v any) {
	m.Patch = append(m.Patch, jsonpatch.NewOperation("replace", path, v))
}

// containerSecurity adds the operations that default the security context
// of container c, the i-th of the pod spec's field.
func (m *Mutation) containerSecurity(sc SecurityContextDefaults, field string, i int, c containerMut) {
	base := fmt.Sprintf("/spec/%s/%d/securityContext", field, i)
	csc := c.SecurityContext
	fields := map[string]any{}
	// A privileged container always escalates: the apiserver refuses
	// allowPrivilegeEscalation: false next to privileged: true, so leave
	// those alone.
	priv := csc != nil && csc.Privileged != nil && *csc.Privileged
	if sc.AllowPrivilegeEscalationFalse && !priv && (csc == nil || unsetRaw(csc.AllowPrivilegeEscalation)) {
		fields["allowPrivilegeEscalation"] = false
		m.Changes = append(m.Changes, fmt.Sprintf("container %s allowPrivilegeEscalation=false", c.Name))
	}
	dropInto := false // the drop list goes into an existing capabilities object
	if sc.DropAllCapabilities && (csc == nil || csc.Capabilities == nil || unsetRaw(csc.Capabilities.Drop)) {
		m.Changes = append(m.Changes, fmt.Sprintf("container %s drop ALL", c.Name))
		if csc == nil || csc.Capabilities == nil {
			fields["capabilities"] = map[string]any{"drop": []any{"ALL"}}
		} else {
			dropInto = true
		}
	}
	switch {
	case csc == nil && len(fields) > 0:
		m.add(base, fields)
	case csc != nil:
		for _, k := range sortedKeys(fields) {
			m.add(base+"/"+k, fields[k])
		}
	}
	if dropInto {
		m.add(base+"/capabilities/drop", []any{"ALL"})
	}
}

// Apply returns raw with the mutation's patch applied.
func (m Mutation) Apply(raw []byte) ([]byte, error) {
	if len(m.Patch) == 0 {
		return raw, nil
	}
	b, err := json.Marshal(m.Patch)
	if err != nil {
		return nil, fmt.Errorf("encoding patch: %w", err)
	}
	patch, err := jsonpatchapply.DecodePatch(b)
	if err != nil {
		return nil, fmt.Errorf("decoding patch: %w", err)
	}
	out, err := patch.Apply(raw)
	if err != nil {
		return nil, fmt.Errorf("applying patch: %w", err)
	}
	return out, nil
}

// podMut holds the fields of a Pod the mutations read. Raw messages keep
// "absent" and "null" apart from values.
type podMut struct {
	Metadata *struct {
		Labels map[string]json.RawMessage `json:"labels"`
	} `json:"metadata"`
	Spec *struct {
		ServiceAccountName json.RawMessage `json:"serviceAccountName"`
		ServiceAccount     json.RawMessage `json:"serviceAccount"`
		SecurityContext    *struct {
			RunAsNonRoot   json.RawMessage `json:"runAsNonRoot"`
			SeccompProfile json.RawMessage `json:"seccompProfile"`
		} `json:"securityContext"`
		Containers          []containerMut `json:"containers"`
		InitContainers      []containerMut `json:"initContainers"`
		EphemeralContainers []containerMut `json:"ephemeralContainers"`
	} `json:"spec"`
}

type containerMut struct {
	Name            string `json:"name"`
	Image           string `json:"image"`
	SecurityContext *struct {
		Privileged               *bool           `json:"privileged"`
		AllowPrivilegeEscalation json.RawMessage `json:"allowPrivilegeEscalation"`
		Capabilities             *struct {
			Drop json.RawMessage `json:"drop"`
		} `json:"capabilities"`
	} `json:"securityContext"`
}

// unsetRaw reports whether a field was absent or null.
func unsetRaw(r json.RawMessage) bool {
	return len(r) == 0 || string(r) == "null"
}

// escapePointer escapes a key for a JSON Pointer (RFC 6901).
func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
