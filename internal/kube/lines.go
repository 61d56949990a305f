package kube

import (
	"regexp"
	"strconv"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/decodemsg"
)

// document is the source text of one document. Line numbers are found by
// parsing it into a YAML node tree, only when a report needs one (a
// critical finding or an invalid field), so the common path decodes each
// document once.
type document struct {
	src  []byte
	line int // line of src's first byte in the input

	parsed bool
	root   *yaml3.Node
}

// maxLineIndexBytes bounds the documents parsed for line numbers: the node
// tree of a huge document costs several times its size in memory, and the
// line of a finding is a convenience. Findings in larger documents carry no
// line.
const maxLineIndexBytes = 4 << 20

// lineOf returns the input line of the field at path (see parsePath), or of
// the deepest part of it that exists; 0 when unknown.
func (d *document) lineOf(path string) int {
	if !d.parsed {
		d.parsed = true
		if len(d.src) <= maxLineIndexBytes {
			var n yaml3.Node
			if yaml3.Unmarshal(d.src, &n) == nil && len(n.Content) > 0 {
				d.root = n.Content[0]
			}
		}
	}
	if d.root == nil {
		return 0
	}
	budget := resolveBudget
	line, _ := resolve(d.root, parsePath(path), d.root.Line, &budget)
	return d.line + line - 1
}

// resolveBudget bounds the nodes visited to find one line: aliases can make
// a small tree look enormous.
const resolveBudget = 100_000

// resolve walks segs from n and returns the line of the last step found
// and whether all were. A key applied to a sequence (encoding/json's paths
// leave out list indices) is looked up in each element, the first element
// holding the rest of the path winning.
func resolve(n *yaml3.Node, segs []pathSeg, line int, budget *int) (int, bool) {
	for i, seg := range segs {
		if *budget--; *budget < 0 {
			return line, false
		}
		n = follow(n)
		switch {
		case seg.index >= 0 && n.Kind == yaml3.SequenceNode:
			if seg.index >= len(n.Content) {
				return line, false
			}
			n = n.Content[seg.index]
			line = n.Line
		case seg.index < 0 && n.Kind == yaml3.MappingNode:
			k, v := lookupKey(n, seg.key, 0)
			if v == nil {
				return line, false
			}
			n, line = v, k.Line
		case seg.index < 0 && n.Kind == yaml3.SequenceNode:
			best := line
			for _, elem := range n.Content {
				l, ok := resolve(elem, segs[i:], elem.Line, budget)
				if ok {
					return l, true
				}
				if best == line {
					best = l
				}
			}
			return best, false
		default:
			return line, false
		}
	}
	return line, true
}

func follow(n *yaml3.Node) *yaml3.Node {
	for i := 0; n.Kind == yaml3.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// lookupKey finds key in a mapping, then in the mappings merged into it
// with "<<".
func lookupKey(m *yaml3.Node, key string, depth int) (k, v *yaml3.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i].Kind == yaml3.ScalarNode {
			return m.Content[i], m.Content[i+1]
		}
	}
	if depth > 10 {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != "<<" {
			continue
		}
		merged := follow(m.Content[i+1])
		sources := []*yaml3.Node{merged}
		if merged.Kind == yaml3.SequenceNode {
			sources = merged.Content
		}
		for _, src := range sources {
			if src = follow(src); src.Kind == yaml3.MappingNode {
				if k, v := lookupKey(src, key, depth+1); v != nil {
					return k, v
				}
			}
		}
	}
	return nil, nil
}

// pathSeg is one step of a field path: a key, or an index (>= 0).
type pathSeg struct {
	key   string
	index int
}

// parsePath splits a field path such as
// `spec.containers[0].securityContext` or
// `metadata.annotations["a.b/c"]` into its steps.
func parsePath(p string) []pathSeg {
	var segs []pathSeg
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			i++
		case '[':
			if i+1 < len(p) && p[i+1] == '"' {
				q, err := strconv.QuotedPrefix(p[i+1:])
				if err != nil {
					return segs
				}
				k, _ := strconv.Unquote(q)
				segs = append(segs, pathSeg{key: k, index: -1})
				i += 1 + len(q) + 1 // [ "…" ]
				continue
			}
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return segs
			}
			n, err := strconv.Atoi(p[i+1 : i+j])
			if err != nil {
				return segs
			}
			segs = append(segs, pathSeg{index: n})
			i += j + 1
		default:
			j := strings.IndexAny(p[i:], ".[")
			if j < 0 {
				j = len(p) - i
			}
			segs = append(segs, pathSeg{key: p[i : i+j], index: -1})
			i += j
		}
	}
	return segs
}

// yamlLineRe finds the "line N: message" parts of a YAML error.
var yamlLineRe = regexp.MustCompile(`line (\d+): ([^\n]*)`)

// yamlProblems turns a YAML decoding error into problems with input lines
// (the parser counts from the start of the document, at input line base).
func yamlProblems(err error, base int) []Problem {
	msg := err.Error()
	var probs []Problem
	for _, m := range yamlLineRe.FindAllStringSubmatch(msg, -1) {
		n, _ := strconv.Atoi(m[1])
		probs = append(probs, Problem{Line: base + n - 1, Message: "YAML: " + strings.TrimSpace(m[2])})
	}
	if len(probs) == 0 {
		msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
		msg = strings.TrimPrefix(msg, "yaml: ")
		probs = append(probs, Problem{Line: base, Message: "YAML: " + msg})
	}
	return probs
}

// typeErrRe matches encoding/json's type errors, whose field is the full
// path after the struct name.
var typeErrRe = regexp.MustCompile(`^json: cannot unmarshal (.+) into Go (?:struct field ([^. ]+)\.(\S+)|value) of type (\S+)$`)

// decodeProblem describes an error of the typed decoding.
func decodeProblem(err error) Problem {
	msg := err.Error()
	m := typeErrRe.FindStringSubmatch(msg)
	if m == nil {
		return Problem{Message: strings.TrimPrefix(msg, "json: ")}
	}
	return Problem{Path: m[3], Message: "expected " + describeGoType(m[4]) + ", got " + m[1]}
}

// describeGoType says in YAML terms what a value of Go type t is.
func describeGoType(t string) string { return decodemsg.Wanted(t) }
