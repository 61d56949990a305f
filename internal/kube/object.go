package kube

import (
	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// PodTemplatePath returns the path of the pod template of a workload kind
// ("" for a Pod itself, "template" for a PodTemplate, "spec.template" for
// controllers, "spec.jobTemplate.spec.template" for a CronJob); ok is
// false for kinds that carry no pod spec. It is the one list of workload
// kinds: kube scan scores them, admission and policy test judge them, and a
// document of such a kind whose apiVersion has no such type is invalid
// rather than merely unsupported.
func PodTemplatePath(kind string) (path string, ok bool) {
	switch kind {
	case "Pod":
		return "", true
	case "PodTemplate":
		return "template", true
	case "ReplicationController", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		return "spec.template", true
	case "CronJob":
		return "spec.jobTemplate.spec.template", true
	}
	return "", false
}

// target is what the rules look at in one valid document.
type target struct {
	kind string
	pod  *podView // nil unless the kind carries a pod spec

	// subjects of a RoleBinding or ClusterRoleBinding.
	subjects    []rbacv1.Subject
	hasSubjects bool
}

// podView is a workload reduced to its pod: the pod spec, the pod's
// metadata (the template's for controllers) and, for StatefulSets, the
// volume claim templates. The paths say where each lives in the document.
type podView struct {
	spec     *corev1.PodSpec
	specPath string
	meta     *metav1.ObjectMeta
	metaPath string

	statefulSet bool
	claims      []corev1.PersistentVolumeClaim

	// containers are all the pod's containers (see allContainers).
	containers []containerRef
}

// targetOf reduces a decoded object to what the rules need, and lists the
// required fields it lacks. Kubernetes marks these fields required in its
// OpenAPI schema (strict decoding alone cannot see a missing field).
func targetOf(obj runtime.Object, kind string) (*target, []Problem) {
	t := &target{kind: kind}
	var missing []string
	need := func(ok bool, path string) {
		if !ok {
			missing = append(missing, path)
		}
	}
	tmpl := func(spec *corev1.PodTemplateSpec, prefix string) {
		t.pod = &podView{spec: &spec.Spec, specPath: prefix + ".spec", meta: &spec.ObjectMeta, metaPath: prefix + ".metadata"}
	}
	// controller is a controller whose API version requires a selector.
	controller := func(sel *metav1.LabelSelector, spec *corev1.PodTemplateSpec) {
		need(sel != nil, "spec.selector")
		tmpl(spec, "spec.template")
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		t.pod = &podView{spec: &o.Spec, specPath: "spec", meta: &o.ObjectMeta, metaPath: "metadata"}
	case *corev1.PodTemplate:
		tmpl(&o.Template, "template")
	case *corev1.ReplicationController:
		if o.Spec.Template == nil {
			need(false, "spec.template")
			break
		}
		tmpl(o.Spec.Template, "spec.template")
	case *appsv1.Deployment:
		controller(o.Spec.Selector, &o.Spec.Template)
	case *appsv1.ReplicaSet:
		controller(o.Spec.Selector, &o.Spec.Template)
	case *appsv1.DaemonSet:
		controller(o.Spec.Selector, &o.Spec.Template)
	case *appsv1.StatefulSet:
		controller(o.Spec.Selector, &o.Spec.Template)
		t.pod.statefulSet, t.pod.claims = true, o.Spec.VolumeClaimTemplates
	case *appsv1beta2.Deployment:
		controller(o.Spec.Selector, &o.Spec.Template)
	case *appsv1beta2.ReplicaSet:
		controller(o.Spec.Selector, &o.Spec.Template)
	case *appsv1beta2.DaemonSet:
		controller(o.Spec.Selector, &o.Spec.Template)
	case *appsv1beta2.StatefulSet:
		controller(o.Spec.Selector, &o.Spec.Template)
		t.pod.statefulSet, t.pod.claims = true, o.Spec.VolumeClaimTemplates
	case *appsv1beta1.Deployment:
		tmpl(&o.Spec.Template, "spec.template")
	case *appsv1beta1.StatefulSet:
		tmpl(&o.Spec.Template, "spec.template")
		t.pod.statefulSet, t.pod.claims = true, o.Spec.VolumeClaimTemplates
	case *extensionsv1beta1.Deployment:
		tmpl(&o.Spec.Template, "spec.template")
	case *extensionsv1beta1.ReplicaSet:
		tmpl(&o.Spec.Template, "spec.template")
	case *extensionsv1beta1.DaemonSet:
		tmpl(&o.Spec.Template, "spec.template")
	case *batchv1.Job:
		tmpl(&o.Spec.Template, "spec.template")
	case *batchv1.CronJob:
		need(o.Spec.Schedule != "", "spec.schedule")
		tmpl(&o.Spec.JobTemplate.Spec.Template, "spec.jobTemplate.spec.template")
	case *batchv1beta1.CronJob:
		need(o.Spec.Schedule != "", "spec.schedule")
		tmpl(&o.Spec.JobTemplate.Spec.Template, "spec.jobTemplate.spec.template")
	case *rbacv1.RoleBinding:
		t.subjects, t.hasSubjects = o.Subjects, true
	case *rbacv1.ClusterRoleBinding:
		t.subjects, t.hasSubjects = o.Subjects, true
	case *rbacv1beta1.RoleBinding:
		t.subjects, t.hasSubjects = subjectsV1beta1(o.Subjects), true
	case *rbacv1beta1.ClusterRoleBinding:
		t.subjects, t.hasSubjects = subjectsV1beta1(o.Subjects), true
	}
	if t.pod != nil {
		t.pod.containers = allContainers(t.pod.spec, t.pod.specPath)
		missing = append(missing, podSpecMissing(t.pod)...)
	}
	if len(missing) == 0 {
		return t, nil
	}
	probs := make([]Problem, len(missing))
	for i, p := range missing {
		probs[i] = Problem{Path: p, Message: "required field is missing"}
	}
	return nil, probs
}

// podSpecMissing lists the required fields a pod spec lacks: the
// containers list and the names of containers and volumes.
func podSpecMissing(p *podView) []string {
	var missing []string
	s, path := p.spec, p.specPath
	if s.Containers == nil {
		missing = append(missing, path+".containers")
	}
	for _, c := range p.containers {
		if c.c.Name == "" {
			missing = append(missing, c.path+".name")
		}
	}
	for i := range s.Volumes {
		if s.Volumes[i].Name == "" {
			missing = append(missing, path+".volumes"+index(i)+".name")
		}
	}
	return missing
}

func subjectsV1beta1(in []rbacv1beta1.Subject) []rbacv1.Subject {
	out := make([]rbacv1.Subject, len(in))
	for i, s := range in {
		out[i] = rbacv1.Subject{Kind: s.Kind, APIGroup: s.APIGroup, Name: s.Name, Namespace: s.Namespace}
	}
	return out
}

// containerRef is one container of a pod spec with its path.
type containerRef struct {
	c    *corev1.Container
	path string
}

// allContainers returns the init containers, the containers and the
// ephemeral containers of a pod spec, in that order. kubesec v2.14.2 walks
// only the first two; an ephemeral container runs on the node like any
// other, so its settings count too.
func allContainers(s *corev1.PodSpec, specPath string) []containerRef {
	refs := make([]containerRef, 0, len(s.InitContainers)+len(s.Containers)+len(s.EphemeralContainers))
	for i := range s.InitContainers {
		refs = append(refs, containerRef{&s.InitContainers[i], specPath + ".initContainers" + index(i)})
	}
	for i := range s.Containers {
		refs = append(refs, containerRef{&s.Containers[i], specPath + ".containers" + index(i)})
	}
	for i := range s.EphemeralContainers {
		c := corev1.Container(s.EphemeralContainers[i].EphemeralContainerCommon)
		refs = append(refs, containerRef{&c, specPath + ".ephemeralContainers" + index(i)})
	}
	return refs
}
