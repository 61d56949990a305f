package policy

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/kube"
)

// TestKubesecScorer runs workload rules on tollgate's real kubesec scanner.
func TestKubesecScorer(t *testing.T) {
	t.Parallel()
	sc, err := kube.NewScanner(kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scorer := KubesecScorer{Scanner: sc}
	pol := mustParse(t, `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  workloads:
    kubesecCritical: {mode: enforce}
    minimumScore: {mode: warn, score: 1}
`)
	tests := []struct {
		name, doc       string
		reason, warning string
	}{
		{
			name: "privileged pod",
			doc: `apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  containers:
  - name: c
    image: nginx:1.16
    securityContext: {privileged: true}`,
			reason:  "kubesec Privileged (spec.containers[0].securityContext.privileged): ",
			warning: "minimumScore: kubesec score -30 is below the minimum 1",
		},
		{
			name: "hardened deployment",
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: ok}
spec:
  selector: {matchLabels: {app: ok}}
  template:
    metadata: {labels: {app: ok}}
    spec:
      containers:
      - name: c
        image: nginx:1.16
        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, runAsUser: 10001}
        resources: {limits: {cpu: 100m, memory: 64Mi}, requests: {cpu: 50m, memory: 32Mi}}`,
		},
		{
			name: "hostPID daemonset",
			doc: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      hostPID: true
      containers: [{name: c, image: "agent:1"}]`,
			reason:  "kubesec HostPID",
			warning: "minimumScore: kubesec score -9 is below the minimum 1",
		},
		{
			name:   "unscorable pod fails closed",
			doc:    "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: c, image: 'nginx:1', ports: [{containerPort: notanumber}]}]",
			reason: `Pod "bad" could not be scored: `,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := toJSON(t, tt.doc)
			w, ok, err := DecodeWorkload("", raw)
			if err != nil || !ok {
				t.Fatalf("DecodeWorkload: %v %v", ok, err)
			}
			d, err := pol.ReviewWorkload(w, "", raw, scorer)
			if err != nil {
				t.Fatal(err)
			}
			if tt.reason == "" {
				if !d.Allowed() {
					t.Errorf("denied: %s", d.Reason())
				}
			} else if !strings.HasPrefix(d.Reason(), tt.reason) {
				t.Errorf("Reason() = %q, want prefix %q", d.Reason(), tt.reason)
			}
			got := strings.Join(d.Warnings(), "\n")
			if got != tt.warning {
				t.Errorf("Warnings() = %q, want %q", got, tt.warning)
			}
		})
	}
}
