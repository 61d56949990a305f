package kube

import (
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Rule is one scoring rule. ID, Selector and Points are kubesec's; Reason
// is ours. Negative points make a critical rule (its points count when it
// matches), positive points a rule that earns its points when satisfied and
// is listed as advice when not.
type Rule struct {
	ID       string
	Selector string
	Reason   string
	Points   int
	// Kinds describes the documents the rule applies to, for listings.
	Kinds string
	// Extended is set for the rules kubesec added after v2.14.2; they run
	// with the "extended" rule set only.
	Extended bool

	applies func(*target) bool
	// check reports whether the rule matches and, for a critical rule, the
	// path of the field that made it match.
	check func(*target) (bool, string)
}

// Rule set names for Options.Ruleset.
const (
	RulesetDefault  = "default"
	RulesetExtended = "extended"
)

// What the rules apply to, for Rule.Kinds.
const (
	kindsWorkloads = "Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate"
	kindsSTS       = "StatefulSet"
	kindsBindings  = "RoleBinding, ClusterRoleBinding"
)

func onPods(t *target) bool         { return t.pod != nil }
func onStatefulSets(t *target) bool { return t.pod != nil && t.pod.statefulSet }
func onBindings(t *target) bool     { return t.hasSubjects }

// Rules returns every rule tollgate knows: kubesec v2.14.2's 26, then the
// 4 that kubesec added later (Extended). The slice is new on each call.
func Rules() []Rule {
	return []Rule{
		{ID: "HostNetwork", Points: -9, Selector: ".spec .hostNetwork == true", Kinds: kindsWorkloads, applies: onPods,
			Reason: "The pod uses the node's network namespace, so it can reach services listening only on the node's loopback interface",
			check:  podFlag(func(s *corev1.PodSpec) bool { return s.HostNetwork }, "hostNetwork")},
		{ID: "HostPID", Points: -9, Selector: ".spec .hostPID == true", Kinds: kindsWorkloads, applies: onPods,
			Reason: "The pod sees every process on the node, with their command lines and environments",
			check:  podFlag(func(s *corev1.PodSpec) bool { return s.HostPID }, "hostPID")},
		{ID: "HostIPC", Points: -9, Selector: ".spec .hostIPC == true", Kinds: kindsWorkloads, applies: onPods,
			Reason: "The pod shares the node's IPC namespace and can talk to the node's processes through it",
			check:  podFlag(func(s *corev1.PodSpec) bool { return s.HostIPC }, "hostIPC")},
		{ID: "ReadOnlyRootFilesystem", Points: 1, Selector: "containers[] .securityContext .readOnlyRootFilesystem == true", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A read-only root filesystem stops an intruder from dropping new binaries into the container",
			check: anyContainer(func(c *corev1.Container) bool {
				return c.SecurityContext != nil && isTrue(c.SecurityContext.ReadOnlyRootFilesystem)
			}, "")},
		{ID: "RunAsNonRoot", Points: 1, Selector: ".spec, .spec.containers[] | .securityContext .runAsNonRoot == true", Kinds: kindsWorkloads, applies: onPods,
			Reason: "Requiring a non-root user keeps the container's processes from running as root",
			check: inherited(func(sc *corev1.SecurityContext) (bool, bool) { return setTrue(sc.RunAsNonRoot) },
				func(sc *corev1.PodSecurityContext) (bool, bool) { return setTrue(sc.RunAsNonRoot) })},
		{ID: "RunAsUser", Points: 1, Selector: ".spec, .spec.containers[] | .securityContext .runAsUser -gt 10000", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A user ID above 10000 is unlikely to match a real user on the node",
			check: inherited(func(sc *corev1.SecurityContext) (bool, bool) { return setAbove(sc.RunAsUser) },
				func(sc *corev1.PodSecurityContext) (bool, bool) { return setAbove(sc.RunAsUser) })},
		{ID: "RunAsGroup", Points: 1, Selector: ".spec, .spec.containers[] | .securityContext .runAsGroup -gt 10000", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A group ID above 10000 is unlikely to match a real group on the node",
			check: inherited(func(sc *corev1.SecurityContext) (bool, bool) { return setAbove(sc.RunAsGroup) },
				func(sc *corev1.PodSecurityContext) (bool, bool) { return setAbove(sc.RunAsGroup) })},
		{ID: "Privileged", Points: -30, Selector: "containers[] .securityContext .privileged == true", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A privileged container has nearly all the powers of root on the node",
			check: anyContainer(func(c *corev1.Container) bool {
				return c.SecurityContext != nil && isTrue(c.SecurityContext.Privileged)
			}, ".securityContext.privileged")},
		{ID: "CapSysAdmin", Points: -30, Selector: "containers[] .securityContext .capabilities .add == SYS_ADMIN", Kinds: kindsWorkloads, applies: onPods,
			Reason: "CAP_SYS_ADMIN grants most of root's powers and is almost never needed",
			check:  capSysAdmin},
		{ID: "CapDropAny", Points: 1, Selector: "containers[] .securityContext .capabilities .drop", Kinds: kindsWorkloads, applies: onPods,
			Reason: "Dropping kernel capabilities shrinks what a compromised container can do",
			check: anyContainer(func(c *corev1.Container) bool {
				return len(capDrop(c)) > 0
			}, "")},
		{ID: "CapDropAll", Points: 1, Selector: `containers[] .securityContext .capabilities .drop | index("ALL")`, Kinds: kindsWorkloads, applies: onPods,
			Reason: "Capabilities that are not dropped stay at an attacker's disposal; drop ALL and add back just what the process needs",
			check: anyContainer(func(c *corev1.Container) bool {
				for _, d := range capDrop(c) {
					// kubesec matches the upper-cased list, so "all" counts.
					if strings.Contains(strings.ToUpper(string(d)), "ALL") {
						return true
					}
				}
				return false
			}, "")},
		{ID: "DockerSock", Points: -9, Selector: "volumes[] .hostPath .path == /var/run/docker.sock", Kinds: kindsWorkloads, applies: onPods,
			Reason: "The Docker socket gives control of every container on the node, and with it the node itself",
			check:  hostPath(isDockerSock)},
		{ID: "ProcMount", Points: -9, Selector: "volumes[] .hostPath .path == /proc", Kinds: kindsWorkloads, applies: onPods,
			Reason: "The node's /proc exposes the other containers' processes and kernel settings and can lead to a breakout",
			check:  hostPath(isProc)},
		{ID: "RequestsCPU", Points: 1, Selector: "containers[] .resources .requests .cpu", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A CPU request lets the scheduler place the pod fairly",
			check:  resource(func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Requests }, corev1.ResourceCPU)},
		{ID: "LimitsCPU", Points: 1, Selector: "containers[] .resources .limits .cpu", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A CPU limit keeps one container from starving the others",
			check:  resource(func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Limits }, corev1.ResourceCPU)},
		{ID: "RequestsMemory", Points: 1, Selector: "containers[] .resources .requests .memory", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A memory request lets the scheduler place the pod fairly",
			check:  resource(func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Requests }, corev1.ResourceMemory)},
		{ID: "LimitsMemory", Points: 1, Selector: "containers[] .resources .limits .memory", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A memory limit keeps one container from exhausting the node's memory",
			check:  resource(func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Limits }, corev1.ResourceMemory)},
		{ID: "ServiceAccountName", Points: 3, Selector: ".spec .serviceAccountName", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A dedicated service account, given only the permissions it needs, limits what the pod can do with the API",
			check: func(t *target) (bool, string) {
				// serviceAccount is the deprecated alias the API server
				// copies into serviceAccountName.
				s := t.pod.spec
				return s.ServiceAccountName != "" || s.DeprecatedServiceAccount != "", ""
			}},
		{ID: "HostAliases", Points: -3, Selector: ".spec .hostAliases", Kinds: kindsWorkloads, applies: onPods,
			Reason: "hostAliases rewrites the pod's /etc/hosts behind the cluster DNS; name resolution belongs to the cluster",
			check: func(t *target) (bool, string) {
				return t.pod.spec.HostAliases != nil, t.pod.specPath + ".hostAliases"
			}},
		{ID: "SeccompAny", Points: 1, Selector: `.metadata .annotations ."container.seccomp.security.alpha.kubernetes.io/pod"`, Kinds: kindsWorkloads, applies: onPods,
			Reason: "A seccomp profile limits the system calls the containers can make",
			check: func(t *target) (bool, string) {
				return confinedAny(seccompProfiles(t.pod)), ""
			}},
		{ID: "SeccompUnconfined", Points: -1, Selector: `.metadata .annotations ."container.seccomp.security.alpha.kubernetes.io/pod"`, Kinds: kindsWorkloads, applies: onPods,
			Reason: "An unconfined seccomp profile allows every system call",
			check: func(t *target) (bool, string) {
				return unconfinedAny(seccompProfiles(t.pod))
			}},
		{ID: "ApparmorAny", Points: 3, Selector: `.metadata .annotations ."container.apparmor.security.beta.kubernetes.io/nginx"`, Kinds: kindsWorkloads, applies: onPods,
			Reason: "An AppArmor profile restricts what the containers can reach beyond what seccomp and capabilities do",
			check: func(t *target) (bool, string) {
				return confinedAny(apparmorProfiles(t.pod)), ""
			}},
		{ID: "VolumeClaimAccessModeReadWriteOnce", Points: 1, Selector: `.spec .volumeClaimTemplates[] .spec .accessModes | index("ReadWriteOnce")`, Kinds: kindsSTS, applies: onStatefulSets,
			Reason: "ReadWriteOnce on the volume claim templates (when there are any) lets only one node mount each volume",
			check:  claimAccessRWO},
		{ID: "VolumeClaimRequestsStorage", Points: 1, Selector: `.spec .volumeClaimTemplates[] .spec .resources .requests .storage`, Kinds: kindsSTS, applies: onStatefulSets,
			Reason: "A storage request on the volume claim templates (when there are any) binds each claim to a volume of the right size",
			check:  claimRequestsStorage},
		{ID: "AllowPrivilegeEscalation", Points: -7, Selector: "containers[] .securityContext .allowPrivilegeEscalation == true", Kinds: kindsWorkloads, applies: onPods,
			Reason: "Allowing privilege escalation lets a process gain more privileges than its parent, through setuid binaries for example",
			check: anyContainer(func(c *corev1.Container) bool {
				return c.SecurityContext != nil && isTrue(c.SecurityContext.AllowPrivilegeEscalation)
			}, ".securityContext.allowPrivilegeEscalation")},
		{ID: "AutomountServiceAccountToken", Points: 1, Selector: ".spec .automountServiceAccountToken == false", Kinds: kindsWorkloads, applies: onPods,
			Reason: "Without an automounted service account token, a compromised pod has no API credentials to abuse",
			check: func(t *target) (bool, string) {
				a := t.pod.spec.AutomountServiceAccountToken
				return a != nil && !*a, ""
			}},

		// Rules kubesec added after v2.14.2.
		{ID: "SecretsAsEnvironmentVariables", Points: -5, Extended: true, Kinds: kindsWorkloads, applies: onPods,
			Selector: ".spec .containers[] .env[] .valueFrom .secretKeyRef | .spec .containers[] .envFrom[] .secretRef | " +
				".spec .initContainers[] .env[] .valueFrom .secretKeyRef | .spec .initContainers[] .envFrom[] .secretRef | " +
				".spec .ephemeralContainers[] .env[] .valueFrom .secretKeyRef | .spec .ephemeralContainers[] .envFrom[] .secretRef",
			Reason: "Secrets in environment variables leak easily, through logs, crash dumps and child processes; mount them as files",
			check:  secretsInEnv},
		{ID: "HostUsers", Points: 1, Extended: true, Selector: ".spec .hostUsers == false", Kinds: kindsWorkloads, applies: onPods,
			Reason: "A user namespace (hostUsers: false) maps root in the container to an unprivileged user on the node",
			check: func(t *target) (bool, string) {
				h := t.pod.spec.HostUsers
				return h != nil && !*h, ""
			}},
		{ID: "ApparmorUnconfined", Points: -1, Extended: true, Kinds: kindsWorkloads, applies: onPods,
			Selector: ".spec .securityContext .appArmorProfile .type == Unconfined | .spec .containers[] .securityContext .appArmorProfile .type == Unconfined | " +
				".spec .initContainers[] .securityContext .appArmorProfile .type == Unconfined | .spec .ephemeralContainers[] .securityContext .appArmorProfile .type == Unconfined",
			Reason: "An unconfined AppArmor profile turns AppArmor off for the container",
			check: func(t *target) (bool, string) {
				return unconfinedAny(apparmorProfiles(t.pod))
			}},
		{ID: "BindingsToSystemAnonymous", Points: -30, Extended: true, Selector: `.subjects[] .name == "system:anonymous"`, Kinds: kindsBindings, applies: onBindings,
			Reason: "Binding a role to system:anonymous gives its permissions to every unauthenticated request",
			check: func(t *target) (bool, string) {
				for i, s := range t.subjects {
					if strings.Contains(s.Name, "system:anonymous") {
						return true, "subjects" + index(i) + ".name"
					}
				}
				return false, ""
			}},
	}
}

func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

func isTrue(b *bool) bool { return b != nil && *b }

// setTrue reports (is set, is true).
func setTrue(b *bool) (bool, bool) { return b != nil, b != nil && *b }

// setAbove reports (is set, is above 10000), kubesec's threshold for
// user and group IDs.
func setAbove(id *int64) (bool, bool) { return id != nil, id != nil && *id > 10000 }

// podFlag checks a boolean of the pod spec.
func podFlag(get func(*corev1.PodSpec) bool, field string) func(*target) (bool, string) {
	return func(t *target) (bool, string) {
		return get(t.pod.spec), t.pod.specPath + "." + field
	}
}

// anyContainer matches when pred holds for at least one container; kubesec
// counts a rule once however many containers match. suffix is appended to
// the container's path to name the offending field.
func anyContainer(pred func(*corev1.Container) bool, suffix string) func(*target) (bool, string) {
	return func(t *target) (bool, string) {
		for _, c := range t.pod.containers {
			if pred(c.c) {
				if suffix == "" {
					return true, ""
				}
				return true, c.path + suffix
			}
		}
		return false, ""
	}
}

// inherited matches when at least one container has the setting, either
// its own or, when it sets nothing, the pod's: container-level values
// override the pod's securityContext.
func inherited(ctr func(*corev1.SecurityContext) (set, ok bool), pod func(*corev1.PodSecurityContext) (set, ok bool)) func(*target) (bool, string) {
	return func(t *target) (bool, string) {
		podOK := false
		if sc := t.pod.spec.SecurityContext; sc != nil {
			_, podOK = pod(sc)
		}
		for _, c := range t.pod.containers {
			set, ok := false, false
			if sc := c.c.SecurityContext; sc != nil {
				set, ok = ctr(sc)
			}
			if ok || (!set && podOK) {
				return true, ""
			}
		}
		return false, ""
	}
}

func capDrop(c *corev1.Container) []corev1.Capability {
	if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
		return nil
	}
	return c.SecurityContext.Capabilities.Drop
}

func capSysAdmin(t *target) (bool, string) {
	for _, c := range t.pod.containers {
		if c.c.SecurityContext == nil || c.c.SecurityContext.Capabilities == nil {
			continue
		}
		for j, a := range c.c.SecurityContext.Capabilities.Add {
			// kubesec matches a substring, so CAP_SYS_ADMIN counts too.
			if strings.Contains(string(a), "SYS_ADMIN") {
				return true, c.path + ".securityContext.capabilities.add" + index(j)
			}
		}
	}
	return false, ""
}

// hostPath matches when a hostPath volume's path satisfies pred.
func hostPath(pred func(string) bool) func(*target) (bool, string) {
	return func(t *target) (bool, string) {
		for i, v := range t.pod.spec.Volumes {
			if v.HostPath != nil && pred(v.HostPath.Path) {
				return true, t.pod.specPath + ".volumes" + index(i) + ".hostPath.path"
			}
		}
		return false, ""
	}
}

// isDockerSock: kubesec looks for the substring /var/run/docker.sock. The
// same socket mounted as /run/docker.sock (the target of the /var/run
// symlink) is just as dangerous, so it counts too.
func isDockerSock(p string) bool {
	return strings.Contains(p, "/var/run/docker.sock") || path.Clean(p) == "/run/docker.sock"
}

// isProc: kubesec looks for the substring /proc anywhere, which also hits
// unrelated paths such as /var/lib/processes. A path counts when one of its
// elements is "proc" (so /proc, /proc/sys and /host/proc/sys match).
func isProc(p string) bool {
	for _, elem := range strings.Split(p, "/") {
		if elem == "proc" {
			return true
		}
	}
	return false
}

// resource matches when at least one regular container (not an init
// container, as in kubesec) sets the resource in the chosen list.
func resource(list func(*corev1.ResourceRequirements) corev1.ResourceList, name corev1.ResourceName) func(*target) (bool, string) {
	return func(t *target) (bool, string) {
		for i := range t.pod.spec.Containers {
			if _, ok := list(&t.pod.spec.Containers[i].Resources)[name]; ok {
				return true, ""
			}
		}
		return false, ""
	}
}

// claimAccessRWO passes when there are no volume claim templates, or one
// of them asks for exactly [ReadWriteOnce] (kubesec's condition).
func claimAccessRWO(t *target) (bool, string) {
	if len(t.pod.claims) == 0 {
		return true, ""
	}
	for _, c := range t.pod.claims {
		if m := c.Spec.AccessModes; len(m) == 1 && m[0] == corev1.ReadWriteOnce {
			return true, ""
		}
	}
	return false, ""
}

// claimRequestsStorage passes when there are no volume claim templates, or
// one of them requests storage.
func claimRequestsStorage(t *target) (bool, string) {
	if len(t.pod.claims) == 0 {
		return true, ""
	}
	for _, c := range t.pod.claims {
		if _, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			return true, ""
		}
	}
	return false, ""
}

func secretsInEnv(t *target) (bool, string) {
	for _, c := range t.pod.containers {
		for i, e := range c.c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				return true, c.path + ".env" + index(i) + ".valueFrom.secretKeyRef"
			}
		}
		for i, e := range c.c.EnvFrom {
			if e.SecretRef != nil {
				return true, c.path + ".envFrom" + index(i) + ".secretRef"
			}
		}
	}
	return false, ""
}
