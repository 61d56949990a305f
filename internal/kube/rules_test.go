package kube

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pod returns a Pod manifest; meta and spec are YAML blocks indented by
// two spaces under metadata and spec.
func pod(meta, spec string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n" + meta + "spec:\n" + spec
}

const oneContainer = `  containers:
    - name: app
      image: app:1
`

// ctr is a pod spec with one container "app" whose extra fields are given
// as YAML indented by six spaces.
func ctr(fields string) string {
	return "  containers:\n    - name: app\n      image: app:1\n" + fields
}

func statefulSet(claims string) string {
	return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: db:1
` + claims
}

func TestRules(t *testing.T) {
	type tc struct {
		name  string
		doc   string
		match bool
	}
	cases := map[string][]tc{
		"HostNetwork": {
			{"true", pod("", "  hostNetwork: true\n"+oneContainer), true},
			{"false", pod("", "  hostNetwork: false\n"+oneContainer), false},
		},
		"HostPID": {
			{"true", pod("", "  hostPID: true\n"+oneContainer), true},
			{"unset", pod("", oneContainer), false},
		},
		"HostIPC": {
			{"true", pod("", "  hostIPC: true\n"+oneContainer), true},
			{"unset", pod("", oneContainer), false},
		},
		"ReadOnlyRootFilesystem": {
			{"container", pod("", ctr("      securityContext: {readOnlyRootFilesystem: true}\n")), true},
			{"false", pod("", ctr("      securityContext: {readOnlyRootFilesystem: false}\n")), false},
			{"init container only", pod("", "  initContainers:\n    - name: i\n      image: i\n      securityContext: {readOnlyRootFilesystem: true}\n"+oneContainer), true},
		},
		"RunAsNonRoot": {
			{"container", pod("", ctr("      securityContext: {runAsNonRoot: true}\n")), true},
			{"pod level inherited", pod("", "  securityContext: {runAsNonRoot: true}\n"+oneContainer), true},
			{"container overrides pod", pod("", "  securityContext: {runAsNonRoot: true}\n"+ctr("      securityContext: {runAsNonRoot: false}\n")), false},
			{"unset", pod("", oneContainer), false},
		},
		"RunAsUser": {
			{"above 10000", pod("", ctr("      securityContext: {runAsUser: 10001}\n")), true},
			{"10000", pod("", ctr("      securityContext: {runAsUser: 10000}\n")), false},
			{"pod level inherited", pod("", "  securityContext: {runAsUser: 20000}\n"+oneContainer), true},
			{"container overrides pod", pod("", "  securityContext: {runAsUser: 20000}\n"+ctr("      securityContext: {runAsUser: 0}\n")), false},
		},
		"RunAsGroup": {
			{"above 10000", pod("", ctr("      securityContext: {runAsGroup: 30000}\n")), true},
			{"low", pod("", ctr("      securityContext: {runAsGroup: 1000}\n")), false},
			{"pod level inherited", pod("", "  securityContext: {runAsGroup: 20000}\n"+oneContainer), true},
		},
		"Privileged": {
			{"container", pod("", ctr("      securityContext: {privileged: true}\n")), true},
			{"init container", pod("", "  initContainers:\n    - name: i\n      image: i\n      securityContext: {privileged: true}\n"+oneContainer), true},
			{"ephemeral container", pod("", oneContainer+"  ephemeralContainers:\n    - name: debug\n      image: busybox\n      securityContext: {privileged: true}\n"), true},
			{"false", pod("", ctr("      securityContext: {privileged: false}\n")), false},
		},
		"CapSysAdmin": {
			{"SYS_ADMIN", pod("", ctr("      securityContext: {capabilities: {add: [NET_BIND_SERVICE, SYS_ADMIN]}}\n")), true},
			{"CAP_SYS_ADMIN", pod("", ctr("      securityContext: {capabilities: {add: [CAP_SYS_ADMIN]}}\n")), true},
			{"other capability", pod("", ctr("      securityContext: {capabilities: {add: [NET_ADMIN]}}\n")), false},
		},
		"CapDropAny": {
			{"drops one", pod("", ctr("      securityContext: {capabilities: {drop: [NET_RAW]}}\n")), true},
			{"empty list", pod("", ctr("      securityContext: {capabilities: {drop: []}}\n")), false},
		},
		"CapDropAll": {
			{"ALL", pod("", ctr("      securityContext: {capabilities: {drop: [ALL]}}\n")), true},
			{"lower case", pod("", ctr("      securityContext: {capabilities: {drop: [all]}}\n")), true},
			{"one capability", pod("", ctr("      securityContext: {capabilities: {drop: [NET_RAW]}}\n")), false},
		},
		"DockerSock": {
			{"/var/run/docker.sock", pod("", oneContainer+"  volumes:\n    - name: s\n      hostPath: {path: /var/run/docker.sock}\n"), true},
			{"/run/docker.sock", pod("", oneContainer+"  volumes:\n    - name: s\n      hostPath: {path: /run/docker.sock}\n"), true},
			{"containerd socket", pod("", oneContainer+"  volumes:\n    - name: s\n      hostPath: {path: /run/containerd/containerd.sock}\n"), false},
		},
		"ProcMount": {
			{"/proc", pod("", oneContainer+"  volumes:\n    - name: p\n      hostPath: {path: /proc}\n"), true},
			{"/host/proc/sys", pod("", oneContainer+"  volumes:\n    - name: p\n      hostPath: {path: /host/proc/sys}\n"), true},
			{"/var/lib/processes", pod("", oneContainer+"  volumes:\n    - name: p\n      hostPath: {path: /var/lib/processes}\n"), false},
			{"procMount field is unrelated", pod("", ctr("      securityContext: {procMount: Unmasked}\n")), false},
		},
		"RequestsCPU": {
			{"container", pod("", ctr("      resources: {requests: {cpu: 100m}}\n")), true},
			{"init container only", pod("", "  initContainers:\n    - name: i\n      image: i\n      resources: {requests: {cpu: 100m}}\n"+oneContainer), false},
		},
		"LimitsCPU": {
			{"container", pod("", ctr("      resources: {limits: {cpu: 1}}\n")), true},
			{"memory only", pod("", ctr("      resources: {limits: {memory: 1Gi}}\n")), false},
		},
		"RequestsMemory": {
			{"container", pod("", ctr("      resources: {requests: {memory: 64Mi}}\n")), true},
			{"unset", pod("", oneContainer), false},
		},
		"LimitsMemory": {
			{"container", pod("", ctr("      resources: {limits: {memory: 64Mi}}\n")), true},
			{"unset", pod("", oneContainer), false},
		},
		"ServiceAccountName": {
			{"named", pod("", "  serviceAccountName: app\n"+oneContainer), true},
			{"deprecated alias", pod("", "  serviceAccount: app\n"+oneContainer), true},
			{"empty", pod("", "  serviceAccountName: \"\"\n"+oneContainer), false},
			{"unset", pod("", oneContainer), false},
		},
		"HostAliases": {
			{"set", pod("", "  hostAliases: [{ip: 10.0.0.1, hostnames: [db]}]\n"+oneContainer), true},
			{"empty list", pod("", "  hostAliases: []\n"+oneContainer), true},
			{"unset", pod("", oneContainer), false},
		},
		"SeccompAny": {
			{"pod annotation", pod("  annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default}\n", oneContainer), true},
			{"container annotation", pod("  annotations: {container.seccomp.security.alpha.kubernetes.io/app: runtime/default}\n", oneContainer), true},
			{"annotation for another container", pod("  annotations: {container.seccomp.security.alpha.kubernetes.io/other: runtime/default}\n", oneContainer), false},
			{"pod field", pod("", "  securityContext: {seccompProfile: {type: RuntimeDefault}}\n"+oneContainer), true},
			{"container field", pod("", ctr("      securityContext: {seccompProfile: {type: Localhost, localhostProfile: p.json}}\n")), true},
			{"container unconfined overrides pod", pod("", "  securityContext: {seccompProfile: {type: RuntimeDefault}}\n"+ctr("      securityContext: {seccompProfile: {type: Unconfined}}\n")), false},
			{"PodSecurityPolicy annotation", pod("  annotations: {seccomp.security.alpha.kubernetes.io/defaultProfileName: runtime/default}\n", oneContainer), false},
			{"unset", pod("", oneContainer), false},
		},
		"SeccompUnconfined": {
			{"pod annotation", pod("  annotations: {seccomp.security.alpha.kubernetes.io/pod: unconfined}\n", oneContainer), true},
			{"container field", pod("", ctr("      securityContext: {seccompProfile: {type: Unconfined}}\n")), true},
			{"pod unconfined, container confined", pod("", "  securityContext: {seccompProfile: {type: Unconfined}}\n"+ctr("      securityContext: {seccompProfile: {type: RuntimeDefault}}\n")), false},
			{"runtime default", pod("  annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default}\n", oneContainer), false},
		},
		"ApparmorAny": {
			{"container annotation", pod("  annotations: {container.apparmor.security.beta.kubernetes.io/app: runtime/default}\n", oneContainer), true},
			{"pod field", pod("", "  securityContext: {appArmorProfile: {type: RuntimeDefault}}\n"+oneContainer), true},
			{"container field", pod("", ctr("      securityContext: {appArmorProfile: {type: Localhost, localhostProfile: k8s-app}}\n")), true},
			{"annotation unconfined", pod("  annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}\n", oneContainer), false},
			{"one of two unconfined", pod("  annotations: {container.apparmor.security.beta.kubernetes.io/app: runtime/default, container.apparmor.security.beta.kubernetes.io/side: unconfined}\n",
				oneContainer+"    - name: side\n      image: side:1\n"), false},
		},
		"ApparmorUnconfined": {
			{"container field", pod("", ctr("      securityContext: {appArmorProfile: {type: Unconfined}}\n")), true},
			{"annotation", pod("  annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}\n", oneContainer), true},
			{"runtime default", pod("", "  securityContext: {appArmorProfile: {type: RuntimeDefault}}\n"+oneContainer), false},
		},
		"VolumeClaimAccessModeReadWriteOnce": {
			{"no templates", statefulSet(""), true},
			{"ReadWriteOnce", statefulSet("  volumeClaimTemplates:\n    - metadata: {name: d}\n      spec: {accessModes: [ReadWriteOnce]}\n"), true},
			{"ReadWriteMany", statefulSet("  volumeClaimTemplates:\n    - metadata: {name: d}\n      spec: {accessModes: [ReadWriteMany]}\n"), false},
			{"two modes", statefulSet("  volumeClaimTemplates:\n    - metadata: {name: d}\n      spec: {accessModes: [ReadWriteOnce, ReadOnlyMany]}\n"), false},
		},
		"VolumeClaimRequestsStorage": {
			{"no templates", statefulSet(""), true},
			{"requested", statefulSet("  volumeClaimTemplates:\n    - metadata: {name: d}\n      spec: {resources: {requests: {storage: 1Gi}}}\n"), true},
			{"not requested", statefulSet("  volumeClaimTemplates:\n    - metadata: {name: d}\n      spec: {accessModes: [ReadWriteOnce]}\n"), false},
		},
		"AllowPrivilegeEscalation": {
			{"true", pod("", ctr("      securityContext: {allowPrivilegeEscalation: true}\n")), true},
			{"false", pod("", ctr("      securityContext: {allowPrivilegeEscalation: false}\n")), false},
			{"unset", pod("", oneContainer), false},
		},
		"AutomountServiceAccountToken": {
			{"false", pod("", "  automountServiceAccountToken: false\n"+oneContainer), true},
			{"true", pod("", "  automountServiceAccountToken: true\n"+oneContainer), false},
			{"unset", pod("", oneContainer), false},
		},
		"SecretsAsEnvironmentVariables": {
			{"secretKeyRef", pod("", ctr("      env: [{name: PW, valueFrom: {secretKeyRef: {name: s, key: pw}}}]\n")), true},
			{"envFrom secretRef", pod("", ctr("      envFrom: [{secretRef: {name: s}}]\n")), true},
			{"configMapKeyRef", pod("", ctr("      env: [{name: X, valueFrom: {configMapKeyRef: {name: c, key: x}}}]\n")), false},
		},
		"HostUsers": {
			{"false", pod("", "  hostUsers: false\n"+oneContainer), true},
			{"true", pod("", "  hostUsers: true\n"+oneContainer), false},
		},
		"BindingsToSystemAnonymous": {
			{"RoleBinding", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}\n", true},
			{"ClusterRoleBinding", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n  - {kind: ServiceAccount, name: a, namespace: ns}\n  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}\n", true},
			{"authenticated users", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:authenticated}\n", false},
		},
	}
	for _, r := range Rules() {
		if len(cases[r.ID]) == 0 {
			t.Errorf("rule %s has no test case", r.ID)
		}
	}
	for id, tcs := range cases {
		s := newTestScanner(t, Options{Rules: []string{id}})
		rule := s.Rules()[0]
		for _, tc := range tcs {
			t.Run(id+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				rs := s.Scan([]byte(tc.doc), "t.yaml")
				if len(rs) != 1 || !rs[0].Valid || !rs[0].Supported {
					t.Fatalf("want one valid, supported report, got %+v", rs)
				}
				r := rs[0]
				var matched bool
				switch {
				case rule.Points < 0:
					matched = hasID(r.Scoring.Critical, id)
				default:
					matched = hasID(r.Scoring.Passed, id)
					if matched == hasID(r.Scoring.Advise, id) {
						t.Errorf("a positive rule is either passed or advised: %+v", r.Scoring)
					}
				}
				if matched != tc.match {
					t.Fatalf("matched = %v, want %v (%+v)", matched, tc.match, r.Scoring)
				}
				wantScore := 0
				if matched {
					wantScore = rule.Points
				}
				if r.Score != wantScore {
					t.Errorf("score %d, want %d", r.Score, wantScore)
				}
				if matched && rule.Points < 0 && r.Scoring.Critical[0].Line == 0 {
					t.Errorf("critical finding without a line: %+v", r.Scoring.Critical[0])
				}
			})
		}
	}
}

// TestRuleFacts checks the 26 default rules against kubesec v2.14.2's IDs,
// points and selectors.
func TestRuleFacts(t *testing.T) {
	want := map[string]struct {
		points   int
		selector string
	}{
		"Privileged":                         {-30, "containers[] .securityContext .privileged == true"},
		"CapSysAdmin":                        {-30, "containers[] .securityContext .capabilities .add == SYS_ADMIN"},
		"HostNetwork":                        {-9, ".spec .hostNetwork == true"},
		"HostPID":                            {-9, ".spec .hostPID == true"},
		"HostIPC":                            {-9, ".spec .hostIPC == true"},
		"DockerSock":                         {-9, "volumes[] .hostPath .path == /var/run/docker.sock"},
		"ProcMount":                          {-9, "volumes[] .hostPath .path == /proc"},
		"AllowPrivilegeEscalation":           {-7, "containers[] .securityContext .allowPrivilegeEscalation == true"},
		"HostAliases":                        {-3, ".spec .hostAliases"},
		"SeccompUnconfined":                  {-1, `.metadata .annotations ."container.seccomp.security.alpha.kubernetes.io/pod"`},
		"ServiceAccountName":                 {3, ".spec .serviceAccountName"},
		"ApparmorAny":                        {3, `.metadata .annotations ."container.apparmor.security.beta.kubernetes.io/nginx"`},
		"RunAsNonRoot":                       {1, ".spec, .spec.containers[] | .securityContext .runAsNonRoot == true"},
		"RunAsUser":                          {1, ".spec, .spec.containers[] | .securityContext .runAsUser -gt 10000"},
		"RunAsGroup":                         {1, ".spec, .spec.containers[] | .securityContext .runAsGroup -gt 10000"},
		"ReadOnlyRootFilesystem":             {1, "containers[] .securityContext .readOnlyRootFilesystem == true"},
		"CapDropAny":                         {1, "containers[] .securityContext .capabilities .drop"},
		"CapDropAll":                         {1, `containers[] .securityContext .capabilities .drop | index("ALL")`},
		"RequestsCPU":                        {1, "containers[] .resources .requests .cpu"},
		"LimitsCPU":                          {1, "containers[] .resources .limits .cpu"},
		"RequestsMemory":                     {1, "containers[] .resources .requests .memory"},
		"LimitsMemory":                       {1, "containers[] .resources .limits .memory"},
		"SeccompAny":                         {1, `.metadata .annotations ."container.seccomp.security.alpha.kubernetes.io/pod"`},
		"AutomountServiceAccountToken":       {1, ".spec .automountServiceAccountToken == false"},
		"VolumeClaimAccessModeReadWriteOnce": {1, `.spec .volumeClaimTemplates[] .spec .accessModes | index("ReadWriteOnce")`},
		"VolumeClaimRequestsStorage":         {1, ".spec .volumeClaimTemplates[] .spec .resources .requests .storage"},
	}
	got := map[string]struct {
		points   int
		selector string
	}{}
	extended := map[string]int{}
	for _, r := range Rules() {
		if r.Extended {
			extended[r.ID] = r.Points
			continue
		}
		got[r.ID] = struct {
			points   int
			selector string
		}{r.Points, r.Selector}
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(struct {
		points   int
		selector string
	}{})); diff != "" {
		t.Errorf("default rules (-want +got):\n%s", diff)
	}
	wantExt := map[string]int{"SecretsAsEnvironmentVariables": -5, "HostUsers": 1, "ApparmorUnconfined": -1, "BindingsToSystemAnonymous": -30}
	if diff := cmp.Diff(wantExt, extended); diff != "" {
		t.Errorf("extended rules (-want +got):\n%s", diff)
	}
}

// TestScoringOrder: kubesec's example of a Pod with one container both
// privileged and allowing privilege escalation, scored -37, with its lists
// in kubesec's exact order.
func TestScoringOrder(t *testing.T) {
	s := newTestScanner(t, Options{})
	doc := pod("", ctr("      securityContext:\n        privileged: true\n        allowPrivilegeEscalation: true\n"))
	rs := s.Scan([]byte(doc), "t.yaml")
	if len(rs) != 1 {
		t.Fatalf("got %d reports", len(rs))
	}
	r := rs[0]
	if r.Score != -37 || r.Message != "Failed with a score of -37 points" {
		t.Errorf("score %d message %q", r.Score, r.Message)
	}
	if diff := cmp.Diff([]string{"Privileged", "AllowPrivilegeEscalation"}, ids(r.Scoring.Critical)); diff != "" {
		t.Errorf("critical (-want +got):\n%s", diff)
	}
	if len(r.Scoring.Passed) != 0 {
		t.Errorf("passed: %v", ids(r.Scoring.Passed))
	}
	wantAdvise := []string{"ApparmorAny", "ServiceAccountName", "SeccompAny", "AutomountServiceAccountToken",
		"RunAsGroup", "RunAsNonRoot", "RunAsUser", "LimitsCPU", "LimitsMemory", "RequestsCPU", "RequestsMemory",
		"CapDropAny", "CapDropAll", "ReadOnlyRootFilesystem"}
	if diff := cmp.Diff(wantAdvise, ids(r.Scoring.Advise)); diff != "" {
		t.Errorf("advise (-want +got):\n%s", diff)
	}
}

// TestReportFailed: a report fails below the minimum score, and an
// invalid document fails whatever the minimum.
func TestReportFailed(t *testing.T) {
	tests := []struct {
		name     string
		r        Report
		minScore int
		want     bool
	}{
		{"above", Report{Valid: true, Score: 3}, 1, false},
		{"at the minimum", Report{Valid: true, Score: 1}, 1, false},
		{"below", Report{Valid: true, Score: 0}, 1, true},
		{"negative minimum", Report{Valid: true, Score: -30}, -30, false},
		{"invalid, even at a low minimum", Report{Valid: false, Score: 0}, -100, true},
	}
	for _, tt := range tests {
		if got := tt.r.Failed(tt.minScore); got != tt.want {
			t.Errorf("%s: Failed(%d) = %v, want %v", tt.name, tt.minScore, got, tt.want)
		}
	}
}

// TestScoreMessages covers the sign rules of the message: 0 passes.
func TestScoreMessages(t *testing.T) {
	for score, want := range map[int]string{
		0: "Passed with a score of 0 points", 7: "Passed with a score of 7 points", -1: "Failed with a score of -1 points",
	} {
		if got := scoreMessage(score); got != want {
			t.Errorf("scoreMessage(%d) = %q, want %q", score, got, want)
		}
	}
}

// TestExtendedRulesetKinds: the extended rule set makes bindings
// supported; the default one reports them as not supported.
func TestExtendedRulesetKinds(t *testing.T) {
	doc := "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: User, name: system:anonymous, apiGroup: rbac.authorization.k8s.io}]\n"
	for _, tt := range []struct {
		ruleset   string
		supported bool
		score     int
	}{{"default", false, 0}, {"extended", true, -30}} {
		s := newTestScanner(t, Options{Ruleset: tt.ruleset})
		r := s.Scan([]byte(doc), "b.yaml")[0]
		if r.Supported != tt.supported || r.Score != tt.score || !strings.Contains(r.Message, fmt.Sprint(tt.score)) == tt.supported {
			t.Errorf("%s: supported %v score %d message %q", tt.ruleset, r.Supported, r.Score, r.Message)
		}
	}
}

// TestWriteRules: the listing has a header and one row per rule, with the
// rule set that runs it.
func TestWriteRules(t *testing.T) {
	var b strings.Builder
	if err := WriteRules(&b); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	rules := Rules()
	if len(rows) != len(rules)+1 || !strings.HasPrefix(rows[0], "ID ") {
		t.Fatalf("%d rows for %d rules:\n%s", len(rows), len(rules), b.String())
	}
	for i, r := range rules {
		set := RulesetDefault
		if r.Extended {
			set = RulesetExtended
		}
		if f := strings.Fields(rows[i+1]); len(f) < 3 || f[0] != r.ID || f[1] != fmt.Sprintf("%+d", r.Points) || f[2] != set {
			t.Errorf("row %q for rule %s (%+d, %s)", rows[i+1], r.ID, r.Points, set)
		}
	}
}
