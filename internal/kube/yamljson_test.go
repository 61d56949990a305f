package kube

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

// yamlSeeds are documents exercising YAML 1.1 scalars and the shapes the
// fast path hands to the library.
var yamlSeeds = []string{
	"a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: True\nh: ~\ni:\nj: null\n",
	"a: 0755\nb: 0x1F\nc: 0o17\nd: 0b101\ne: -0b11\nf: 1_000\ng: +12\nh: -0\ni: 9223372036854775808\nj: 18446744073709551616\n",
	"a: 1.5\nb: .5\nc: 1e3\nd: 1.\ne: -1.5e-7\nf: 1e400\ng: .inf\nh: .nan\ni: 3.0\n",
	"a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 12:30\nd: 1:20:30\n",
	"a: 'yes'\nb: \"0755\"\nc: |\n  text\n  more\nd: >\n  folded\n  text\ne: \"esc \\u00e9 \\t <&>\"\n",
	"? complex\n: key\n",
	"true: x\n1: y\n1.5: z\n~: n\n",
	"a: &x 1\nb: *x\n",
	"base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",
	"a: !!str 123\nb: !!int \"7\"\nc: !!binary aGk=\n",
	"a: 1\na: 2\n",
	"a: 1\n'a': 2\n",
	"- a\n- b: [1, {c: d}]\n- []\n- {}\n",
	"plain\nmulti line\n",
	"\"quoted\ndoc\"\n",
	"a: b: c\n",
	"a:\n\t- x\n",
	"key: value # comment\n# only a comment\n",
	"",
	"--- |\n  block doc\n",
	"a: [1, 2,]\n",
	"a: {b: }\n",
	"a: \"\\x41\\u2028\"\n",
	"a: 'it''s'\n",
	"€: ünïcödé\n",
	"apiVersion: 1\nkind: 0x10\nmetadata: {name: 1.2, namespace: yes}\n",
	"kind: Pod\nmetadata: {name: '007', namespace: ~}\n",
}

func FuzzYAMLToJSON(f *testing.F) {
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	files, _ := testFiles()
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range splitStream(data) {
			f.Add(p.data)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkFastYAML(t, src)
	})
}

// checkFastYAML: when the fast path converts a document, the library must
// convert it too, to the same JSON value.
func checkFastYAML(t *testing.T, src []byte) {
	t.Helper()
	fast, root, ok := fastYAMLToJSON(src)
	if !ok {
		return
	}
	if root != nil && len(fast) > 0 && fast[0] == '{' {
		if h := headFromNode(root); h != nil && !reflect.DeepEqual(h, readHead(fast)) {
			t.Fatalf("for %q: head from the node tree %+v, from the JSON %+v", src, h, readHead(fast))
		}
	}
	ref, err := yaml.YAMLToJSONStrict(src)
	if err != nil {
		t.Fatalf("fast path accepted %q, the library refuses it: %v", src, err)
	}
	var a, b any
	da := json.NewDecoder(bytes.NewReader(fast))
	da.UseNumber()
	if err := da.Decode(&a); err != nil {
		t.Fatalf("fast path produced invalid JSON %s for %q: %v", fast, src, err)
	}
	db := json.NewDecoder(bytes.NewReader(ref))
	db.UseNumber()
	if err := db.Decode(&b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("for %q\nfast path: %s\nlibrary:   %s", src, fast, ref)
	}
}

// TestFastYAMLCoverage: the fast path takes the manifests it is for, and
// leaves the unusual ones to the library.
func TestFastYAMLCoverage(t *testing.T) {
	for _, tt := range []struct {
		src  string
		fast bool
	}{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: yes\n  containers: [{name: a}]\n", true},
		{yamlSeeds[0], true},
		{yamlSeeds[1], true},
		{yamlSeeds[4], true},
		{"a: &x 1\nb: *x\n", false},
		{"base: &b {x: 1}\nderived:\n  <<: *b\n", false},
		{"a: !!str 123\n", false},
		{"a: 1\na: 2\n", false},
		{"true: x\n", false},
		{"a: .inf\n", false},
		{"a: b: c\n", false},
	} {
		_, _, ok := fastYAMLToJSON([]byte(tt.src))
		if ok != tt.fast {
			t.Errorf("fastYAMLToJSON(%q) ok = %v, want %v", tt.src, ok, tt.fast)
		}
		checkFastYAML(t, []byte(tt.src))
	}
}
