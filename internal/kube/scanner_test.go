package kube

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func newTestScanner(t testing.TB, opts Options) *Scanner {
	t.Helper()
	s, err := NewScanner(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// summary is what the edge-case tests check of a report.
type summary struct {
	Object   string
	Valid    bool
	Score    int
	Line     int
	Critical []string // "ID@line"
	Message  string   // checked as a substring when set
}

func summarize(rs []Report, withMessage map[int]bool) []summary {
	if len(rs) == 0 {
		return nil
	}
	out := make([]summary, len(rs))
	for i, r := range rs {
		s := summary{Object: r.Object, Valid: r.Valid, Score: r.Score, Line: r.Line}
		for _, c := range r.Scoring.Critical {
			s.Critical = append(s.Critical, fmt.Sprintf("%s@%d", c.ID, c.Line))
		}
		if withMessage[i] {
			s.Message = r.Message
		}
		out[i] = s
	}
	return out
}

func TestScanEdgeCases(t *testing.T) {
	s := newTestScanner(t, Options{})
	daemonSet := summary{Object: "DaemonSet/agent.default", Valid: true, Score: -39, Line: 17,
		Critical: []string{"Privileged@34", "HostPID@29"}}
	front := summary{Object: "Deployment/front.default", Valid: true, Score: 1, Line: 1}
	tests := []struct {
		file string
		want []summary
	}{
		// kubesec drops the DaemonSet after "--- # comment" and after a CRLF
		// separator; both must be scored.
		{"comment-separator.yaml", []summary{front, daemonSet}},
		{"crlf.yaml", []summary{front, daemonSet}},
		// comment-only documents are skipped, not reported as "Unknown".
		{"comment-only.yaml", []summary{{Object: "Pod/solo.default", Valid: true, Score: 0, Line: 5}}},
		// List items are scored one by one, nested Lists too.
		{"list.yaml", []summary{
			{Object: "Service/front.default", Valid: true, Line: 4},
			{Object: "Deployment/front.default", Valid: true, Score: -9, Line: 11, Critical: []string{"HostNetwork@22"}},
			{Object: "Pod/inner.default", Valid: true, Score: -7, Line: 29, Critical: []string{"AllowPrivilegeEscalation@38"}},
		}},
		{"pod.json", []summary{{Object: "Pod/from-json.tools", Valid: true, Score: -29, Line: 1, Critical: []string{"Privileged@10"}}}},
		// A broken document between two good ones: its own report, the
		// others scored.
		{"broken-middle.yaml", []summary{
			{Object: "Pod/first.default", Valid: true, Line: 1},
			{Object: "Unknown", Line: 9, Message: "document 2 (line 9) is invalid: YAML: did not find expected '-' indicator (line 16)"},
			{Object: "Pod/third.default", Valid: true, Score: -9, Line: 18, Critical: []string{"HostIPC@24"}},
		}},
		{"empty.yaml", nil},
		{"garbage.bin", []summary{
			{Object: "Unknown", Line: 1, Message: "control characters are not allowed"},
			{Object: "Unknown", Line: 4, Message: "control characters are not allowed"},
		}},
		{"invalid.yaml", []summary{
			{Object: "Pod/unknown-field.default", Line: 1, Message: "spec.containers[0].securityContxt: unknown field (line 9)"},
			{Object: "Pod/wrong-type.default", Line: 11, Message: "spec.hostNetwork: expected a boolean, got string (line 17)"},
			{Object: "Deployment/no-selector.default", Line: 21, Message: "spec.selector: required field is missing (line 26); spec.template.spec.containers[0].name: required field is missing (line 30)"},
			{Object: "Unknown", Line: 31, Message: "kind: missing, or not a string"},
			{Object: "Deployment/unknown-version.default", Line: 34, Message: "apps/v1alpha9 has no kind Deployment"},
			{Object: "Unknown", Line: 39, Message: "not a string"},
			{Object: "Unknown", Line: 41, Message: "not a list"},
		}},
		// Exponential aliases are refused, quickly.
		{"alias-bomb.yaml", []summary{{Object: "Unknown", Line: 1, Message: "excessive aliasing"}}},
		{"unsupported.yaml", []summary{
			{Object: "Service/front.default", Valid: true, Line: 1, Message: "not supported"},
			{Object: "ServiceMonitor/front.default", Valid: true, Line: 8, Message: "no built-in schema for monitoring.coreos.com/v1 ServiceMonitor"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "edge", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := s.Scan(data, tt.file)
			withMessage := map[int]bool{}
			for i, w := range tt.want {
				withMessage[i] = w.Message != ""
			}
			gs := summarize(got, withMessage)
			for i := range gs {
				if i < len(tt.want) && tt.want[i].Message != "" && strings.Contains(gs[i].Message, tt.want[i].Message) {
					gs[i].Message = tt.want[i].Message
				}
			}
			if diff := cmp.Diff(tt.want, gs); diff != "" {
				t.Errorf("Scan(%s) (-want +got):\n%s", tt.file, diff)
			}
			for _, r := range got {
				if r.FileName != tt.file {
					t.Errorf("fileName %q, want %q", r.FileName, tt.file)
				}
			}
		})
	}
}

// TestScanKinds checks that every workload kind is reduced to its pod spec:
// each file has a privileged container at a known line and runAsNonRoot
// at pod level.
func TestScanKinds(t *testing.T) {
	s := newTestScanner(t, Options{})
	tests := []struct {
		file, object, path string
		line, score        int
	}{
		{"pod.yaml", "Pod/web.shop", "spec.containers[0].securityContext.privileged", 13, -29},
		{"podtemplate.yaml", "PodTemplate/web.shop", "template.spec.containers[0].securityContext.privileged", 16, -29},
		{"replicationcontroller.yaml", "ReplicationController/web.shop", "spec.template.spec.containers[0].securityContext.privileged", 20, -29},
		{"deployment.yaml", "Deployment/web.shop", "spec.template.spec.containers[0].securityContext.privileged", 21, -29},
		{"daemonset.yaml", "DaemonSet/web.shop", "spec.template.spec.containers[0].securityContext.privileged", 21, -29},
		{"replicaset.yaml", "ReplicaSet/web.shop", "spec.template.spec.containers[0].securityContext.privileged", 21, -29},
		// + VolumeClaimAccessModeReadWriteOnce and VolumeClaimRequestsStorage
		{"statefulset.yaml", "StatefulSet/web.shop", "spec.template.spec.containers[0].securityContext.privileged", 21, -27},
		{"job.yaml", "Job/web.shop", "spec.template.spec.containers[0].securityContext.privileged", 16, -29},
		{"cronjob.yaml", "CronJob/web.shop", "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged", 19, -29},
		{"deployment-extensions-v1beta1.yaml", "Deployment/web.shop", "spec.template.spec.containers[0].securityContext.privileged", 18, -29},
		{"cronjob-batch-v1beta1.yaml", "CronJob/web.shop", "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged", 19, -29},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "kinds", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := s.Scan(data, tt.file)
			if len(got) != 1 {
				t.Fatalf("got %d reports, want 1: %+v", len(got), got)
			}
			r := got[0]
			if !r.Valid || !r.Supported || r.Object != tt.object || r.Score != tt.score {
				t.Fatalf("got object %q valid %v supported %v score %d (%s); want %q valid supported score %d",
					r.Object, r.Valid, r.Supported, r.Score, r.Message, tt.object, tt.score)
			}
			want := []RuleResult{{ID: "Privileged", Points: -30, Line: tt.line, Path: tt.path}}
			if diff := cmp.Diff(want, r.Scoring.Critical, cmp.FilterPath(func(p cmp.Path) bool {
				f := p.Last().String()
				return f == ".Selector" || f == ".Reason"
			}, cmp.Ignore())); diff != "" {
				t.Errorf("critical (-want +got):\n%s", diff)
			}
			if !hasID(r.Scoring.Passed, "RunAsNonRoot") {
				t.Errorf("RunAsNonRoot set at pod level not credited: passed %v", ids(r.Scoring.Passed))
			}
		})
	}
}

// TestScanSingleJSONObject is how the admission server calls Scan.
func TestScanSingleJSONObject(t *testing.T) {
	s := newTestScanner(t, Options{})
	obj := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"ns"},` +
		`"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},` +
		`"spec":{"hostPID":true,"containers":[{"name":"c","image":"i","securityContext":{"capabilities":{"add":["SYS_ADMIN"]}}}]}}}}`
	got := s.Scan([]byte(obj), APIFileName)
	if len(got) != 1 {
		t.Fatalf("got %d reports", len(got))
	}
	r := got[0]
	if r.Object != "Deployment/d.ns" || r.FileName != "API" || r.Score != -39 || !r.Valid {
		t.Fatalf("got %+v", r)
	}
	if diff := cmp.Diff([]string{"CapSysAdmin", "HostPID"}, ids(r.Scoring.Critical)); diff != "" {
		t.Errorf("critical (-want +got):\n%s", diff)
	}
	if r.Scoring.Critical[0].Line != 1 {
		t.Errorf("line of a one-line JSON object: %d", r.Scoring.Critical[0].Line)
	}
}

// TestScanGolden compares the complete JSON output for every test file with
// testdata/golden (go test -run TestScanGolden -update rewrites them).
func TestScanGolden(t *testing.T) {
	s := newTestScanner(t, Options{})
	files, err := testFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		dir := filepath.Base(filepath.Dir(f))
		if dir == "golden" || strings.HasPrefix(filepath.Base(f), ".") {
			continue
		}
		name := dir + "-" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteJSON(&buf, s.Scan(data, filepath.ToSlash(f))); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestNewScannerOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantN   int
		wantErr string
	}{
		{"default", Options{}, 26, ""},
		{"default by name", Options{Ruleset: "default"}, 26, ""},
		{"extended", Options{Ruleset: "extended"}, 30, ""},
		{"unknown ruleset", Options{Ruleset: "strict"}, 0, `unknown rule set "strict"`},
		{"subset", Options{Rules: []string{"Privileged", "HostUsers", "Privileged"}}, 2, ""},
		{"unknown rule", Options{Rules: []string{"Privileged", "Nope", "Nada"}}, 0, "unknown rule ID Nope, Nada"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewScanner(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(s.Rules()); n != tt.wantN {
				t.Errorf("%d rules, want %d", n, tt.wantN)
			}
		})
	}
}

func ids(rs []RuleResult) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func hasID(rs []RuleResult, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// TestWriteJSONMatchesEncodingJSON: the specialised writer produces the
// bytes of json.MarshalIndent, kubesec's own encoding.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	s := newTestScanner(t, Options{Ruleset: RulesetExtended})
	var reports []Report
	files, _ := testFiles()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, s.Scan(data, f)...)
	}
	reports = append(reports, Report{Object: "Pod/<a>&\"b\"\\é\u2028\x01", FileName: "x\ty", Valid: true,
		Scoring: Scoring{Passed: []RuleResult{{ID: "A", Selector: "<s>", Reason: "r\n", Points: 1}}}})
	for i := range len(reports) + 1 {
		assertSameJSON(t, reports[:i])
	}
}

func assertSameJSON(t *testing.T, reports []Report) {
	t.Helper()
	var got bytes.Buffer
	if err := WriteJSON(&got, reports); err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) == 0 {
		want = []byte("[]")
	}
	if diff := cmp.Diff(string(want)+"\n", got.String()); diff != "" {
		t.Fatalf("WriteJSON differs from json.MarshalIndent (-want +got):\n%s", diff)
	}
}

// testFiles lists our test inputs: testdata/edge and testdata/kinds.
func testFiles() ([]string, error) {
	var files []string
	for _, dir := range []string{"edge", "kinds"} {
		fs, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

// TestScanParallelMatchesSequential: a long stream is scored on several
// cores; the reports must be those of a document-by-document scan, in
// order, and an emit error must stop the scan.
func TestScanParallelMatchesSequential(t *testing.T) {
	s := newTestScanner(t, Options{})
	var stream bytes.Buffer
	files, err := testFiles()
	if err != nil {
		t.Fatal(err)
	}
	for len(stream.Bytes()) < 4*parallelMinBytes {
		for _, f := range files {
			if strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".bin") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			stream.WriteString("---\n")
			stream.Write(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")))
			stream.WriteString("\n")
		}
	}
	data := stream.Bytes()
	pieces := splitStream(data)
	if len(pieces) < 4*parallelMinDocs {
		t.Fatalf("only %d documents", len(pieces))
	}
	var want []Report
	for i, p := range pieces {
		for _, x := range s.scanPiece(nil, p, i, "s.yaml") {
			want = append(want, x.r)
		}
	}
	got := s.Scan(data, "s.yaml")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parallel scan differs (-sequential +parallel):\n%s", diff)
	}
	stop := fmt.Errorf("stop")
	n := 0
	err = s.ScanFunc(data, "s.yaml", func(*Report) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if err != stop || n != 10 {
		t.Errorf("ScanFunc after an emit error: err %v, %d reports emitted", err, n)
	}
}
