package decodemsg

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestDescribe(t *testing.T) {
	type Settings struct {
		Ignored []string `json:"ignored"`
		NoFail  *bool    `json:"no-fail"`
	}
	type File struct {
		Settings
		Spec struct {
			Score int `json:"score"`
		} `json:"spec"`
	}
	decode := func(doc string) error {
		var f File
		return yaml.UnmarshalStrict([]byte(doc), &f)
	}
	for _, tc := range []struct{ name, doc, key, problem string }{
		{"string for a list", "ignored: DL3008\n", "ignored", "a string is not allowed here, want a list"},
		{"list for a bool", "no-fail: [1]\n", "no-fail", "a list is not allowed here, want a boolean"},
		{"string for an int", "spec: {score: high}\n", "spec.score", "a string is not allowed here, want an integer"},
		{"not a mapping", "just text\n", "", "a string is not allowed here, want a mapping"},
		{"unknown key", "ignord: []\n", "ignord", "unknown key"},
		{"bad YAML", "ignored: [a\n", "", "line 1: did not find expected ',' or ']'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decode(tc.doc)
			if err == nil {
				t.Fatal("no error")
			}
			key, problem := Describe(err)
			if key != tc.key || problem != tc.problem {
				t.Errorf("Describe(%q) = %q, %q; want %q, %q", err, key, problem, tc.key, tc.problem)
			}
			if text := Text(err); strings.Contains(text, "Go ") || strings.Contains(text, "json") || strings.Contains(text, "YAML to JSON") {
				t.Errorf("Text(%q) = %q still speaks of the decoder", err, text)
			}
		})
	}
	// A typed error (not flattened to text by sigs.k8s.io/yaml).
	var v struct {
		Items []int `json:"items"`
	}
	err := json.Unmarshal([]byte(`{"items": {"a": 1}}`), &v)
	if got := Text(err); got != "items: a mapping is not allowed here, want a list" {
		t.Errorf("Text(%v) = %q", err, got)
	}
	if got := Text(errors.New("a message of our own")); got != "a message of our own" {
		t.Errorf("Text of our own message = %q", got)
	}
}
