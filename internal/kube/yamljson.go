package kube

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
)

// YAML to JSON. The reference is sigs.k8s.io/yaml.YAMLToJSONStrict, what
// kubectl uses: YAML 1.1 scalars (yes/no/on/off are booleans, 0755 is
// octal), duplicate keys refused. It parses with yaml.v2 into maps, then
// marshals them with encoding/json, and the scanner would need a second,
// yaml.v3 parse for line numbers. For the common shape of a manifest —
// mappings with string keys, sequences, untagged scalars, no anchors —
// fastYAMLToJSON does the same conversion from one yaml.v3 node tree,
// which also gives the line numbers. Anything else (tags, anchors and
// aliases, merge keys, non-string keys, duplicate keys, values JSON cannot
// hold, or text yaml.v3 does not parse) is left to the library, so its
// result and its error messages stay the reference. A differential test
// and fuzz target check both paths give the same JSON.

// fastYAMLToJSON parses a one-document YAML text. ok is false when the
// document is outside the fast path's subset; root is the parsed node
// (nil for an empty document) when ok.
func fastYAMLToJSON(src []byte) (js []byte, root *yaml3.Node, ok bool) {
	// Tags ("!" alone leaves no trace in the node tree) and directives
	// are left to the library.
	if bytes.IndexByte(src, '!') >= 0 || bytes.HasPrefix(src, []byte("%")) || bytes.Contains(src, []byte("\n%")) {
		return nil, nil, false
	}
	var doc yaml3.Node
	if err := yaml3.Unmarshal(src, &doc); err != nil {
		return nil, nil, false
	}
	if len(doc.Content) == 0 {
		return []byte("null"), nil, true
	}
	root = doc.Content[0]
	js, ok = appendNodeJSON(make([]byte, 0, len(src)+len(src)/4), root)
	if !ok {
		return nil, nil, false
	}
	return js, root, true
}

func appendNodeJSON(b []byte, n *yaml3.Node) ([]byte, bool) {
	if n.Anchor != "" || n.Style&yaml3.TaggedStyle != 0 {
		return nil, false
	}
	switch n.Kind {
	case yaml3.MappingNode:
		b = append(b, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			key, ok := mappingKey(k)
			if !ok {
				return nil, false
			}
			for j := 0; j < i; j += 2 { // duplicate keys: the library reports them
				if n.Content[j].Value == key {
					return nil, false
				}
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, key)
			b = append(b, ':')
			if b, ok = appendNodeJSON(b, n.Content[i+1]); !ok {
				return nil, false
			}
		}
		return append(b, '}'), true
	case yaml3.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendNodeJSON(b, c); !ok {
				return nil, false
			}
		}
		return append(b, ']'), true
	case yaml3.ScalarNode:
		if n.Style != 0 { // quoted, literal or folded: always a string
			return appendString(b, n.Value), true
		}
		return appendPlainScalar(b, n.Value)
	}
	return nil, false // aliases, or anything unexpected
}

// mappingKey returns the key of a mapping entry when it is a string as
// YAML 1.1 reads it.
func mappingKey(k *yaml3.Node) (string, bool) {
	if k.Kind != yaml3.ScalarNode || k.Anchor != "" || k.Style&yaml3.TaggedStyle != 0 {
		return "", false
	}
	if k.Style != 0 {
		return k.Value, true
	}
	if _, isString := resolvePlain(k.Value); !isString {
		return "", false // true:, 1:, ~:, <<: … converted or refused by the library
	}
	return k.Value, true
}

// appendPlainScalar appends the JSON of an untagged plain scalar.
func appendPlainScalar(b []byte, s string) ([]byte, bool) {
	v, isString := resolvePlain(s)
	if isString {
		return appendString(b, s), true
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false // not JSON: the library reports it
		}
		j, err := json.Marshal(v)
		if err != nil {
			return nil, false
		}
		return append(b, j...), true
	}
	return nil, false
}

// yaml11Float is YAML 1.1's float syntax, as yaml.v2 checks it.
var yaml11Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvePlain reads an untagged plain scalar by the YAML 1.1 rules that
// yaml.v2 applies when decoding into an interface (timestamps stay
// strings): isString, or a value of nil, bool, int64, uint64 or float64.
// "<<" (a merge key) reports neither, so that callers leave it to the
// library.
func resolvePlain(s string) (v any, isString bool) {
	if s == "" {
		return nil, false
	}
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, false
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, false
	case "~", "null", "Null", "NULL":
		return nil, false
	case ".nan", ".NaN", ".NAN":
		return math.NaN(), false
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1), false
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1), false
	case "<<":
		return struct{}{}, false
	}
	switch c := s[0]; {
	case c == '.':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, false
		}
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		plain := strings.ReplaceAll(s, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return i, false
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return u, false
		}
		if yaml11Float.MatchString(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return f, false
			}
		}
		if rest, ok := strings.CutPrefix(plain, "0b"); ok {
			if i, err := strconv.ParseInt(rest, 2, 64); err == nil {
				return i, false
			}
			if u, err := strconv.ParseUint(rest, 2, 64); err == nil {
				return u, false
			}
		} else if rest, ok := strings.CutPrefix(plain, "-0b"); ok {
			if i, err := strconv.ParseInt("-"+rest, 2, 64); err == nil {
				return i, false
			}
		}
	}
	return nil, true
}
