package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// Manifest is one object of an input, as the manifest reader yields it:
// every document of a YAML or JSON stream, the items of a List (and of
// typed lists such as PodList) one by one, in input order. kube scan,
// policy test and kube scan --policy all read their input through it, so
// they agree on what a document is.
type Manifest struct {
	// File is the input's path, or StdinName.
	File string
	// Index is the 0-based index of the document in File (the items of a
	// List share their List's index).
	Index int
	// Line is the 1-based line where the document (or List item) starts.
	Line int
	// Kind is the object's kind; "" when the document has none.
	Kind string
	// Object is the object as JSON; nil when the document is not a mapping
	// or does not parse.
	Object []byte

	object   string    // kubesec's "Kind/name.namespace"
	head     *head     // kind, apiVersion, name and namespace as read
	problems []Problem // why the document is invalid before its type is known
	doc      *document // the document's source, for line numbers
	prefix   string    // the object's path inside doc ("" for the whole document)
}

// Err describes why the document cannot be judged (it does not parse, is
// not a mapping, has no kind or apiVersion), or is nil.
func (m *Manifest) Err() error {
	if len(m.problems) == 0 {
		return nil
	}
	return errors.New(problemText(m.problems))
}

// Path is the object's place in its document: "" for the document itself,
// "items[2]" for an item of a List. Report paths start with it.
func (m *Manifest) Path() string { return m.prefix }

// Name is the object's metadata.name, "" when absent or not a string.
func (m *Manifest) Name() string {
	if m.head == nil || m.head.Metadata == nil {
		return ""
	}
	s, _ := m.head.Metadata.Name.(string)
	return s
}

// Namespace is the object's metadata.namespace, "" when absent or not a
// string.
func (m *Manifest) Namespace() string {
	if m.head == nil || m.head.Metadata == nil {
		return ""
	}
	s, _ := m.head.Metadata.Namespace.(string)
	return s
}

// ReadManifests hands every manifest of data, the content of the input
// named file, to emit, in input order. It stops at, and returns, the first
// error of emit. Documents that do not parse are manifests too (Err says
// why), so one broken document does not hide the others.
func ReadManifests(data []byte, file string, emit func(*Manifest) error) error {
	for i, p := range splitStream(data) {
		ms := readPiece(nil, p, i, file)
		for j := range ms {
			if err := emit(&ms[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

// readPiece converts one document to JSON and appends its manifests to
// out: the document itself, or the items of a List. A document holding
// only comments or an explicit null yields none.
func readPiece(out []Manifest, p piece, idx int, file string) []Manifest {
	doc := &document{src: p.data, line: p.line}
	js := p.data
	if !p.json {
		var root *yaml3.Node
		var ok bool
		var err error
		if js, root, ok = fastYAMLToJSON(p.data); ok {
			doc.root, doc.parsed = root, true
		} else if js, err = yaml.YAMLToJSONStrict(p.data); err != nil {
			// Name the object when only the strict checks (duplicate
			// keys) failed.
			m := Manifest{File: file, Index: idx, Line: p.line, object: "Unknown", problems: yamlProblems(err, p.line), doc: doc}
			if lax, err := yaml.YAMLToJSON(p.data); err == nil {
				m.head = readHead(lax)
				m.object = objectName(m.head)
			}
			return append(out, m)
		}
		if string(js) == "null" { // only comments, or an explicit null
			return out
		}
	}
	return expand(out, js, doc, "", idx, 0, file, nil)
}

// expand appends the manifest of the JSON object js found at prefix in doc
// or, for a list, the manifests of its items. list is the head of the list
// js is an item of, when it is one.
func expand(out []Manifest, js []byte, doc *document, prefix string, idx, depth int, file string, list *head) []Manifest {
	m := Manifest{File: file, Index: idx, Line: doc.line, object: "Unknown", doc: doc, prefix: prefix}
	if prefix != "" {
		m.Line = doc.lineOf(prefix)
	}
	if len(js) == 0 || js[0] != '{' { // js is compact JSON: an object starts with '{'
		var top any
		_ = json.Unmarshal(js, &top)
		return append(out, m.invalid(Problem{Message: fmt.Sprintf("a document must be a mapping of fields, not %s", jsonKind(top))}))
	}
	if list != nil {
		js = typedItem(js, list)
	}
	if prefix == "" && doc.root != nil {
		m.head = headFromNode(doc.root)
	}
	if m.head == nil {
		m.head = readHead(js)
	}
	m.object = objectName(m.head)
	m.Kind, _ = m.head.Kind.(string)
	apiVersion, _ := m.head.APIVersion.(string)
	switch {
	case m.Kind == "":
		return append(out, m.invalid(Problem{Path: "kind", Message: "missing, or not a string"}))
	case apiVersion == "":
		return append(out, m.invalid(Problem{Path: "apiVersion", Message: "missing, or not a string"}))
	}
	if isList(m.Kind, js) {
		if depth >= maxListDepth {
			return append(out, m.invalid(Problem{Message: fmt.Sprintf("Lists nested more than %d deep", maxListDepth)}))
		}
		var l struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Metadata   json.RawMessage   `json:"metadata"`
			Items      []json.RawMessage `json:"items"`
		}
		if probs := decodeStrict(js, &l); len(probs) > 0 {
			return append(out, m.invalid(probs...))
		}
		var itemHead *head
		if m.Kind != "List" { // a typed list: its items may leave out their kind
			itemHead = &head{APIVersion: apiVersion, Kind: strings.TrimSuffix(m.Kind, "List")}
		}
		for i, item := range l.Items {
			out = expand(out, item, doc, joinPath(prefix, "items"+index(i)), idx, depth+1, file, itemHead)
		}
		return out
	}
	m.Object = js
	return append(out, m)
}

// isList reports whether an object of kind is a list to read item by item:
// a List, or a typed list (PodList, DeploymentList…) with an items array.
func isList(kind string, js []byte) bool {
	if kind == "List" {
		return true
	}
	if !strings.HasSuffix(kind, "List") || len(kind) == len("List") {
		return false
	}
	var items struct {
		Items json.RawMessage `json:"items"`
	}
	_ = json.Unmarshal(js, &items)
	return len(items.Items) > 0 && items.Items[0] == '['
}

// typedItem gives an item of a typed list the kind and apiVersion the
// list implies when it leaves them out (the API server writes PodList
// items that way).
func typedItem(js []byte, list *head) []byte {
	var h struct {
		APIVersion *json.RawMessage `json:"apiVersion"`
		Kind       *json.RawMessage `json:"kind"`
	}
	if list == nil || json.Unmarshal(js, &h) != nil {
		return js
	}
	var add []string
	if h.APIVersion == nil {
		add = append(add, fmt.Sprintf(`"apiVersion":%q`, list.APIVersion))
	}
	if h.Kind == nil {
		add = append(add, fmt.Sprintf(`"kind":%q`, list.Kind))
	}
	if len(add) == 0 {
		return js
	}
	rest := bytes.TrimSpace(js[1:])
	sep := ","
	if len(rest) > 0 && rest[0] == '}' {
		sep = ""
	}
	return []byte("{" + strings.Join(add, ",") + sep + string(rest))
}

// invalid returns m marked invalid with probs, their paths taken from the
// object's place in the document and their lines looked up.
func (m Manifest) invalid(probs ...Problem) Manifest {
	for i := range probs {
		probs[i].Path = joinPath(m.prefix, probs[i].Path)
		if probs[i].Line == 0 && probs[i].Path != "" {
			probs[i].Line = m.doc.lineOf(probs[i].Path)
		}
	}
	m.problems = probs
	m.Object = nil
	return m
}

// problemText joins problems into one message.
func problemText(probs []Problem) string {
	msgs := make([]string, len(probs))
	for i, p := range probs {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, "; ")
}
