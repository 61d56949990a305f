package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitStream(t *testing.T) {
	type doc struct {
		Line int
		Text string
		JSON bool
	}
	tests := []struct {
		name string
		in   string
		want []doc
	}{
		{"empty", "", nil},
		{"blank lines", "\n\n  \n", nil},
		{"only a marker", "---\n", nil},
		{"only comments", "# a\n# b\n", nil},
		{"one document", "a: 1\n", []doc{{1, "a: 1\n", false}}},
		{"plain separator", "a: 1\n---\nb: 2\n", []doc{{1, "a: 1\n", false}, {2, "---\nb: 2\n", false}}},
		{"separator with comment", "a: 1\n--- # next\nb: 2\n", []doc{{1, "a: 1\n", false}, {2, "--- # next\nb: 2\n", false}}},
		{"separator with trailing space", "a: 1\n--- \nb: 2\n", []doc{{1, "a: 1\n", false}, {2, "--- \nb: 2\n", false}}},
		{"separator with tab", "a: 1\n---\t\nb: 2\n", []doc{{1, "a: 1\n", false}, {2, "---\t\nb: 2\n", false}}},
		{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", []doc{{1, "a: 1\r\n", false}, {2, "---\r\nb: 2\r\n", false}}},
		{"CR only", "a: 1\r---\rb: 2\r", []doc{{1, "a: 1\r", false}, {2, "---\rb: 2\r", false}}},
		{"no final newline", "a: 1\n---\nb: 2", []doc{{1, "a: 1\n", false}, {2, "---\nb: 2", false}}},
		{"leading marker and comment header", "# Source: x\n---\na: 1\n", []doc{{2, "---\na: 1\n", false}}},
		{"comment-only document in the middle", "a: 1\n---\n# nothing\n---\nb: 2\n", []doc{{1, "a: 1\n", false}, {4, "---\nb: 2\n", false}}},
		{"trailing marker", "a: 1\n---\n", []doc{{1, "a: 1\n", false}}},
		{"document end marker", "a: 1\n...\nb: 2\n", []doc{{1, "a: 1\n", false}, {3, "b: 2\n", false}}},
		{"dashes that are not a marker", "a: |\n  ---\nb: ---x\n---x: 1\n", []doc{{1, "a: |\n  ---\nb: ---x\n---x: 1\n", false}}},
		{"content on the marker line", "--- {a: 1}\n", []doc{{1, "--- {a: 1}\n", false}}},
		{"directive", "%YAML 1.2\n---\na: 1\n", []doc{{2, "---\na: 1\n", false}}},
		{"byte order mark", "\xEF\xBB\xBFa: 1\n", []doc{{1, "a: 1\n", false}}},
		{"JSON object", "\n  {\"a\": 1}\n", []doc{{2, "{\"a\": 1}", true}}},
		{"JSON array", "[1, 2]", []doc{{1, "[1, 2]", true}}},
		{"JSON objects in a row", "{\"a\": 1}\n{\"b\":\n 2}\n", []doc{{1, "{\"a\": 1}", true}, {2, "{\"b\":\n 2}", true}}},
		{"YAML flow mapping is not JSON", "{a: 1}\n", []doc{{1, "{a: 1}\n", false}}},
		{"broken JSON falls back to YAML", "{\"a\": 1\n", []doc{{1, "{\"a\": 1\n", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []doc
			for _, p := range splitStream([]byte(tt.in)) {
				got = append(got, doc{p.line, string(p.data), p.json})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("splitStream(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParsePath(t *testing.T) {
	got := parsePath(`spec.containers[2].securityContext.x[0][1].annotations["a.b/c"].d`)
	want := []pathSeg{{"spec", -1}, {"containers", -1}, {"", 2}, {"securityContext", -1}, {"x", -1}, {"", 0}, {"", 1}, {"annotations", -1}, {"a.b/c", -1}, {"d", -1}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(pathSeg{})); diff != "" {
		t.Errorf("parsePath (-want +got):\n%s", diff)
	}
}
