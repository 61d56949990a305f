package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	kjson "sigs.k8s.io/json"

	"github.com/tollgate-dev/tollgate/internal/kube"
)

// Workload is the pod part of an object: a Pod itself, or the pod template
// of a workload controller.
type Workload struct {
	// Kind is the object's kind ("Pod", "Deployment", …).
	Kind string
	// Name and Namespace come from the object's metadata.
	Name, Namespace string
	// Path is the JSON path of the pod spec's parent, as written in
	// messages ("" for a Pod, "spec.template" for a Deployment,
	// "spec.jobTemplate.spec.template" for a CronJob).
	Path string
	// Annotations are the pod's (or pod template's) annotations.
	Annotations map[string]string
	// Images lists every image the pod would run, in the order
	// containers, init containers, ephemeral containers, image volumes.
	Images []ImageUse
}

// ImageUse is one image of a pod and where it is written.
type ImageUse struct {
	// Image is the reference as written.
	Image string
	// What describes its place: `container "web"`, `init container "x"`,
	// `ephemeral container "d"`, `image volume "v"`.
	What string
	// Field is its JSON path, e.g. spec.template.spec.containers[0].image.
	Field string
}

// IsWorkloadKind reports whether kind has a pod spec tollgate checks
// (kube.PodTemplatePath, the one list of workload kinds).
func IsWorkloadKind(kind string) bool {
	_, ok := kube.PodTemplatePath(kind)
	return ok
}

type metaJSON struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Annotations map[string]string `json:"annotations"`
}

type containerJSON struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type podSpecJSON struct {
	Containers          []containerJSON `json:"containers"`
	InitContainers      []containerJSON `json:"initContainers"`
	EphemeralContainers []containerJSON `json:"ephemeralContainers"`
	Volumes             []struct {
		Name  string `json:"name"`
		Image *struct {
			Reference string `json:"reference"`
		} `json:"image"`
	} `json:"volumes"`
}

type templateJSON struct {
	Metadata metaJSON    `json:"metadata"`
	Spec     podSpecJSON `json:"spec"`
}

type objectJSON struct {
	Kind     string        `json:"kind"`
	Metadata metaJSON      `json:"metadata"`
	Template *templateJSON `json:"template"` // a PodTemplate's
	Spec     struct {
		podSpecJSON
		Template    *templateJSON `json:"template"`
		JobTemplate *struct {
			Spec struct {
				Template *templateJSON `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// DecodeWorkload reads the pod part of a JSON object of the given kind
// (when kind is empty, the object's own "kind" field decides). ok is false
// for kinds that have no pod spec.
func DecodeWorkload(kind string, raw []byte) (w Workload, ok bool, err error) {
	var o objectJSON
	if err := decodeJSON(raw, &o); err != nil {
		return Workload{}, false, fmt.Errorf("decoding object: %w", err)
	}
	if kind == "" {
		kind = o.Kind
	}
	path, ok := kube.PodTemplatePath(kind)
	if !ok {
		return Workload{}, false, nil
	}
	w = Workload{Kind: kind, Name: o.Metadata.Name, Namespace: o.Metadata.Namespace, Path: path}
	var spec *podSpecJSON
	switch {
	case path == "":
		w.Annotations = o.Metadata.Annotations
		spec = &o.Spec.podSpecJSON
	default:
		t := o.Spec.Template
		switch kind {
		case "CronJob":
			t = nil
			if o.Spec.JobTemplate != nil {
				t = o.Spec.JobTemplate.Spec.Template
			}
		case "PodTemplate":
			t = o.Template
		}
		if t == nil {
			return w, true, nil
		}
		w.Annotations = t.Metadata.Annotations
		spec = &t.Spec
	}
	prefix := "spec."
	if path != "" {
		prefix = path + ".spec."
	}
	add := func(list []containerJSON, field, what string) {
		for i, c := range list {
			w.Images = append(w.Images, ImageUse{
				Image: c.Image,
				What:  fmt.Sprintf("%s %q", what, c.Name),
				Field: fmt.Sprintf("%s%s[%d].image", prefix, field, i),
			})
		}
	}
	add(spec.Containers, "containers", "container")
	add(spec.InitContainers, "initContainers", "init container")
	add(spec.EphemeralContainers, "ephemeralContainers", "ephemeral container")
	for i, v := range spec.Volumes {
		if v.Image == nil {
			continue
		}
		w.Images = append(w.Images, ImageUse{
			Image: v.Image.Reference,
			What:  fmt.Sprintf("image volume %q", v.Name),
			Field: fmt.Sprintf("%svolumes[%d].image.reference", prefix, i),
		})
	}
	return w, true, nil
}

// breakGlassRequested reports whether annotations carry the ImagePolicyWebhook
// break-glass request: a key "<prefix>.image-policy.k8s.io/break-glass"
// (the apiserver forwards every key containing ".image-policy.k8s.io/") with
// the value "true".
func breakGlassRequested(annotations map[string]string) bool {
	for k, v := range annotations {
		if strings.HasSuffix(k, ".image-policy.k8s.io/break-glass") && strings.EqualFold(v, "true") {
			return true
		}
	}
	return false
}

// JSONErrorText words a JSON decoding error in terms of the JSON sent
// (field paths, JSON types) instead of tollgate's Go types. whole names
// the decoded value for an error about its top level ("the body").
func JSONErrorText(err error, whole string) string {
	msg := err.Error()
	if m := topTypeErrorRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s is a JSON %s, not an object", whole, m[1])
	}
	if m := fieldTypeErrorRE.FindStringSubmatch(msg); m != nil {
		field := strings.ReplaceAll(strings.TrimPrefix(m[2], "."), "podSpecJSON.", "")
		return fmt.Sprintf("%s: a JSON %s is not allowed here", field, m[1])
	}
	return strings.TrimPrefix(msg, "json: ")
}

// The errors of encoding/json and sigs.k8s.io/json for a value of the
// wrong JSON type: at the top level, and in a field (named with or without
// its Go struct type before the path).
var (
	topTypeErrorRE   = regexp.MustCompile(`^json: cannot unmarshal (\w+) into Go value of type`)
	fieldTypeErrorRE = regexp.MustCompile(`^json: cannot unmarshal (\w+) into Go struct field \w*(\S*) of type`)
)

// decodeJSON decodes as the apiserver does: field names are case-sensitive
// ("Containers" is not "containers") and a field given twice is an error
// (else two decoders could each see a different value).
func decodeJSON(data []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(data, v, kjson.DisallowDuplicateFields)
	if err != nil {
		return errors.New(JSONErrorText(err, "the object"))
	}
	if len(strict) > 0 {
		return errors.New(JSONErrorText(strict[0], "the object"))
	}
	return nil
}
