package kube

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Seccomp and AppArmor confinement. kubesec v2.14.2 reads only the
// annotations that Kubernetes deprecated (seccomp: removed in 1.27; AppArmor:
// fields since 1.30), and only from the top-level metadata. tollgate works
// out the profile each container actually gets, from the fields and the
// annotations of the pod (the pod template's for controllers):
// container field, then container annotation, then pod field, then pod
// annotation, the first one set winning, as in the kubelet.

// Annotation keys. The container name follows the container prefixes.
const (
	seccompPodAnnotation        = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerAnnotation  = "container.seccomp.security.alpha.kubernetes.io/"
	apparmorContainerAnnotation = "container.apparmor.security.beta.kubernetes.io/"
	annotationUnconfined        = "unconfined"
)

// confinement of one container.
type confinement int

const (
	unset confinement = iota
	confined
	unconfined
)

// profile is a container's effective confinement and the field that set it.
type profile struct {
	state confinement
	path  string
}

// confinedAny reports whether some container is confined and none is
// explicitly unconfined (kubesec refuses the AppArmor points as soon as one
// container is unconfined).
func confinedAny(ps []profile) bool {
	ok := false
	for _, p := range ps {
		switch p.state {
		case unconfined:
			return false
		case confined:
			ok = true
		}
	}
	return ok
}

// unconfinedAny reports whether some container runs unconfined, with the
// field that made it so.
func unconfinedAny(ps []profile) (bool, string) {
	for _, p := range ps {
		if p.state == unconfined {
			return true, p.path
		}
	}
	return false, ""
}

func annotationPath(metaPath, key string) string {
	return metaPath + ".annotations[" + strconv.Quote(key) + "]"
}

func fromAnnotation(v string) confinement {
	switch v {
	case "":
		return unset
	case annotationUnconfined:
		return unconfined
	}
	return confined
}

func seccompType(p *corev1.SeccompProfile) confinement {
	switch {
	case p == nil || p.Type == "":
		return unset
	case p.Type == corev1.SeccompProfileTypeUnconfined:
		return unconfined
	}
	return confined
}

func apparmorType(p *corev1.AppArmorProfile) confinement {
	switch {
	case p == nil || p.Type == "":
		return unset
	case p.Type == corev1.AppArmorProfileTypeUnconfined:
		return unconfined
	}
	return confined
}

// seccompProfiles returns the effective seccomp confinement of each
// container (or of the pod when it has no container).
func seccompProfiles(p *podView) []profile {
	pod := profile{}
	if sc := p.spec.SecurityContext; sc != nil {
		if s := seccompType(sc.SeccompProfile); s != unset {
			pod = profile{s, p.specPath + ".securityContext.seccompProfile.type"}
		}
	}
	if pod.state == unset {
		if s := fromAnnotation(p.meta.Annotations[seccompPodAnnotation]); s != unset {
			pod = profile{s, annotationPath(p.metaPath, seccompPodAnnotation)}
		}
	}
	return perContainer(p, pod, func(c containerRef) profile {
		if sc := c.c.SecurityContext; sc != nil {
			if s := seccompType(sc.SeccompProfile); s != unset {
				return profile{s, c.path + ".securityContext.seccompProfile.type"}
			}
		}
		key := seccompContainerAnnotation + c.c.Name
		if s := fromAnnotation(p.meta.Annotations[key]); s != unset {
			return profile{s, annotationPath(p.metaPath, key)}
		}
		return profile{}
	})
}

// apparmorProfiles returns the effective AppArmor confinement of each
// container (or of the pod when it has no container). AppArmor never had a
// pod-level annotation.
func apparmorProfiles(p *podView) []profile {
	pod := profile{}
	if sc := p.spec.SecurityContext; sc != nil {
		if s := apparmorType(sc.AppArmorProfile); s != unset {
			pod = profile{s, p.specPath + ".securityContext.appArmorProfile.type"}
		}
	}
	return perContainer(p, pod, func(c containerRef) profile {
		if sc := c.c.SecurityContext; sc != nil {
			if s := apparmorType(sc.AppArmorProfile); s != unset {
				return profile{s, c.path + ".securityContext.appArmorProfile.type"}
			}
		}
		key := apparmorContainerAnnotation + c.c.Name
		if s := fromAnnotation(p.meta.Annotations[key]); s != unset {
			return profile{s, annotationPath(p.metaPath, key)}
		}
		return profile{}
	})
}

func perContainer(p *podView, pod profile, own func(containerRef) profile) []profile {
	if len(p.containers) == 0 {
		return []profile{pod}
	}
	ps := make([]profile, len(p.containers))
	for i, c := range p.containers {
		if ps[i] = own(c); ps[i].state == unset {
			ps[i] = pod
		}
	}
	return ps
}
