package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

func toJSON(t *testing.T, doc string) []byte {
	t.Helper()
	b, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("YAMLToJSON: %v", err)
	}
	return b
}

func TestDecodeWorkload(t *testing.T) {
	t.Parallel()
	podSpec := `
      containers: [{name: web, image: "nginx:1.16"}]
      initContainers: [{name: init, image: busybox}]
      volumes:
      - {name: data, image: {reference: "reg.io/data:1"}}
      - {name: tmp, emptyDir: {}}`
	tests := []struct {
		name   string
		doc    string
		wantOK bool
		want   Workload
	}{
		{
			name: "pod",
			doc: `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns, annotations: {a.image-policy.k8s.io/break-glass: "true"}}
spec:
  containers: [{name: web, image: "nginx:1.16"}, {name: side, image: redis}]
  initContainers: [{name: init, image: busybox}]
  ephemeralContainers: [{name: debug, image: "busybox:latest"}]`,
			wantOK: true,
			want: Workload{Kind: "Pod", Name: "p", Namespace: "ns",
				Annotations: map[string]string{"a.image-policy.k8s.io/break-glass": "true"},
				Images: []ImageUse{
					{Image: "nginx:1.16", What: `container "web"`, Field: "spec.containers[0].image"},
					{Image: "redis", What: `container "side"`, Field: "spec.containers[1].image"},
					{Image: "busybox", What: `init container "init"`, Field: "spec.initContainers[0].image"},
					{Image: "busybox:latest", What: `ephemeral container "debug"`, Field: "spec.ephemeralContainers[0].image"},
				}},
		},
		{
			name: "deployment",
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    metadata: {annotations: {k: v}}
    spec:` + podSpec,
			wantOK: true,
			want: Workload{Kind: "Deployment", Name: "d", Path: "spec.template", Annotations: map[string]string{"k": "v"},
				Images: []ImageUse{
					{Image: "nginx:1.16", What: `container "web"`, Field: "spec.template.spec.containers[0].image"},
					{Image: "busybox", What: `init container "init"`, Field: "spec.template.spec.initContainers[0].image"},
					{Image: "reg.io/data:1", What: `image volume "data"`, Field: "spec.template.spec.volumes[0].image.reference"},
				}},
		},
		{
			name: "cronjob",
			doc: `apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: "alpine:3"}]`,
			wantOK: true,
			want: Workload{Kind: "CronJob", Name: "c", Path: "spec.jobTemplate.spec.template",
				Images: []ImageUse{{Image: "alpine:3", What: `container "job"`, Field: "spec.jobTemplate.spec.template.spec.containers[0].image"}}},
		},
		{name: "service", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}", wantOK: false},
	}
	for _, kind := range []string{"StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"} {
		tests = append(tests, struct {
			name   string
			doc    string
			wantOK bool
			want   Workload
		}{
			name:   strings.ToLower(kind),
			doc:    "kind: " + kind + "\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: app}]",
			wantOK: true,
			want: Workload{Kind: kind, Name: "x", Path: "spec.template",
				Images: []ImageUse{{Image: "app", What: `container "a"`, Field: "spec.template.spec.containers[0].image"}}},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := DecodeWorkload("", toJSON(t, tt.doc))
			if err != nil {
				t.Fatalf("DecodeWorkload: %v", err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeWorkload mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, _, err := DecodeWorkload("Pod", []byte(`{"spec":`)); err == nil {
		t.Error("DecodeWorkload of truncated JSON: want an error")
	}
}

// scoreTable is a Scorer that answers from a table keyed by object name,
// for testing the policy's use of scores apart from the kubesec rules.
type scoreTable map[string]Score

func (s scoreTable) Score(obj []byte) (Score, error) {
	w, ok, err := DecodeWorkload("", obj)
	if err != nil || !ok {
		return Score{}, errors.New("not a workload")
	}
	return s[w.Name], nil
}

func TestReviewWorkload(t *testing.T) {
	t.Parallel()
	pol := mustParse(t, `apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  workloads:
    kubesecCritical: {mode: enforce}
    minimumScore: {mode: warn, score: 3}
  exemptions:
  - namespaces: [ops]
    rules: [kubesecCritical]
`)
	scores := scoreTable{
		"priv": {Valid: true, Score: -30, Critical: []ScoreItem{{ID: "Privileged", Selector: "containers[] .securityContext .privileged == true", Reason: "privileged containers can do anything on the node", Points: -30}}},
		"good": {Valid: true, Score: 4},
		"low":  {Valid: true, Score: 1},
	}
	pod := func(name, image string) []byte {
		return toJSON(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: "+name+"}\nspec:\n  containers: [{name: c, image: '"+image+"'}]")
	}
	tests := []struct {
		name     string
		ns       string
		raw      []byte
		allowed  bool
		reason   string
		warnings []string
	}{
		{name: "good", raw: pod("good", "nginx:1.16"), allowed: true},
		{name: "privileged", raw: pod("priv", "nginx:1.16"), reason: "kubesec Privileged (containers[] .securityContext .privileged == true): privileged containers can do anything on the node",
			warnings: []string{"minimumScore: kubesec score -30 is below the minimum 3"}},
		{name: "privileged exempt", ns: "ops", raw: pod("priv", "nginx:1.16"), allowed: true,
			warnings: []string{"minimumScore: kubesec score -30 is below the minimum 3"}},
		{name: "low score", raw: pod("low", "nginx:1.16"), allowed: true, warnings: []string{"minimumScore: kubesec score 1 is below the minimum 3"}},
		{name: "image and score", raw: pod("good", "nginx"), reason: `container "c" (spec.containers[0].image): image "nginx" has no tag`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, _, err := DecodeWorkload("Pod", tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			d, err := pol.ReviewWorkload(w, tt.ns, tt.raw, scores)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed() != tt.allowed || d.Reason() != tt.reason {
				t.Errorf("Allowed, Reason = %v, %q; want %v, %q", d.Allowed(), d.Reason(), tt.allowed, tt.reason)
			}
			if diff := cmp.Diff(tt.warnings, d.Warnings()); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
