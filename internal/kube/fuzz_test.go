package kube

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzScan feeds arbitrary input through the stream splitter, the decoders,
// validation, the rules, the line lookup and the JSON writer. The seed
// corpus (our test files and a few hand-made streams) runs in every go test.
//
// Five minutes of fuzzing:
//
//	go test ./internal/kube -run '^$' -fuzz FuzzScan -fuzztime 5m -parallel=1
func FuzzScan(f *testing.F) {
	files, err := testFiles()
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		if filepath.Base(filepath.Dir(file)) == "golden" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		"", "---", "--- # c\n---\n...\n", "{}", "[]", "null", "{\"kind\":\"Pod\"}\n{\"kind\":\"List\"}",
		"apiVersion: v1\nkind: List\nitems: [null, 1, {kind: List, apiVersion: v1, items: [{}]}]\n",
		"apiVersion: v1\nkind: Pod\nmetadata: &m {name: a}\nspec: {containers: [{name: a, securityContext: {privileged: true}}]}\nx: *m\n",
		"a: &a [*a]\n", "%YAML 1.1\n--- !!str\nfoo\n", "\xEF\xBB\xBF{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"hostPID\":true,\"containers\":[]}}",
		"apiVersion: v1\r\nkind: Pod\r\nmetadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: unconfined}}\r\nspec: {containers: [{name: c}]}\r\n",
	} {
		f.Add([]byte(seed))
	}
	s, err := NewScanner(Options{Ruleset: RulesetExtended})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reports := s.Scan(data, "fuzz")
		for i, r := range reports {
			if r.Object == "" || r.FileName != "fuzz" || r.Message == "" {
				t.Fatalf("report %d incomplete: %+v", i, r)
			}
			if !r.Valid && (r.Score != 0 || !reflect.DeepEqual(r.Scoring, Scoring{}) || len(r.Problems) == 0) {
				t.Fatalf("invalid report %d with a score or no problem: %+v", i, r)
			}
			sum := 0
			for _, c := range r.Scoring.Critical {
				if c.Points >= 0 {
					t.Fatalf("critical result with %d points", c.Points)
				}
				sum += c.Points
			}
			for _, p := range r.Scoring.Passed {
				sum += p.Points
			}
			if sum != r.Score {
				t.Fatalf("report %d: score %d, results add up to %d", i, r.Score, sum)
			}
			if r.Line < 1 {
				t.Fatalf("report %d: line %d", i, r.Line)
			}
		}
		assertSameJSON(t, reports)
		if again := s.Scan(data, "fuzz"); !reflect.DeepEqual(again, reports) {
			t.Fatal("Scan is not deterministic")
		}
	})
}
