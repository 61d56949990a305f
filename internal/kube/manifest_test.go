package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadManifests pins what the one manifest reader yields: documents
// and List items (typed lists too) in order, with file, index, line and
// kind; documents without a kind or that are not mappings carry an error.
func TestReadManifests(t *testing.T) {
	t.Parallel()
	data := `# leading comment
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: s}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: inner}
---
apiVersion: v1
kind: PodList
items:
- metadata: {name: typed}
  spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
metadata: {name: nokind}
---
- not
- a mapping
`
	type row struct {
		Index, Line      int
		Kind, Name, Path string
		Err              string
	}
	var got []row
	err := ReadManifests([]byte(data), "m.yaml", func(m *Manifest) error {
		r := row{Index: m.Index, Line: m.Line, Kind: m.Kind, Name: m.Name(), Path: m.Path()}
		if e := m.Err(); e != nil {
			r.Err = e.Error()
		}
		if m.File != "m.yaml" || (r.Err == "" && len(m.Object) == 0) {
			t.Errorf("manifest %+v: file %q, %d bytes of object", r, m.File, len(m.Object))
		}
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{Index: 0, Line: 1, Kind: "Pod", Name: "a"},
		{Index: 1, Line: 9, Kind: "Service", Name: "s", Path: "items[0]"},
		{Index: 1, Line: 15, Kind: "Pod", Name: "inner", Path: "items[1].items[0]"},
		{Index: 2, Line: 22, Kind: "Pod", Name: "typed", Path: "items[0]"},
		{Index: 3, Line: 24, Name: "nokind", Err: "kind: missing, or not a string (line 25)"},
		{Index: 4, Line: 27, Err: "a document must be a mapping of fields, not a list"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("manifests (-want +got):\n%s", diff)
	}
}

// TestReadPathsAndScanAgree: policy test (ReadPaths) and kube scan
// (ScanManifestsFunc) read the same inputs into the same manifests, and a
// directory without manifests is an error for both.
func TestReadPathsAndScanAgree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	one := write("one.yaml", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n")
	write("d/b.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	write("d/notes.txt", "not a manifest")
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	paths := []string{one, "-", filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "d"), filepath.Join(dir, "empty")}
	stdin := "apiVersion: v1\nkind: Pod\nmetadata: {name: stdin}\n"

	var read []string
	readErrs := ReadPaths(paths, strings.NewReader(stdin), func(m *Manifest) error {
		read = append(read, strings.TrimPrefix(m.File, dir+"/")+":"+m.Kind+"/"+m.Name())
		return nil
	})
	s, err := NewScanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var scanned []string
	scanErrs := s.ScanManifestsFunc(paths, strings.NewReader(stdin), func(m *Manifest, r *Report) error {
		if r.FileName != m.File || r.Document != m.Index || r.Line != m.Line {
			t.Errorf("report %s:%d line %d for manifest %s:%d line %d", r.FileName, r.Document, r.Line, m.File, m.Index, m.Line)
		}
		scanned = append(scanned, strings.TrimPrefix(m.File, dir+"/")+":"+m.Kind+"/"+m.Name())
		return nil
	})
	want := []string{"one.yaml:Pod/p", "one.yaml:ConfigMap/c", StdinName + ":Pod/stdin", "d/b.yml:Service/s"}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("ReadPaths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(read, scanned); diff != "" {
		t.Errorf("ScanManifestsFunc differs from ReadPaths (-read +scanned):\n%s", diff)
	}
	msgs := func(errs []error) []string {
		var out []string
		for _, e := range errs {
			out = append(out, strings.TrimPrefix(e.Error(), dir+"/"))
		}
		return out
	}
	wantErrs := []string{"missing.yaml: no such file or directory", "empty: no .yaml, .yml or .json file in this directory"}
	if diff := cmp.Diff(wantErrs, msgs(readErrs)); diff != "" {
		t.Errorf("ReadPaths errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantErrs, msgs(scanErrs)); diff != "" {
		t.Errorf("scan errors (-want +got):\n%s", diff)
	}
}
