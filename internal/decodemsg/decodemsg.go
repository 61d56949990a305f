// Package decodemsg words the errors of decoding YAML or JSON into Go
// values in the input's own terms — its keys and its YAML/JSON types —
// instead of the decoder's ("json: cannot unmarshal string into Go struct
// field Settings.ignored of type []string", "error converting YAML to
// JSON"). Config files, policy files and admission bodies use it, so a
// user never sees a Go type name.
package decodemsg

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

// Describe returns the key path the error is about ("" for the whole
// value) and the problem, in our words.
func Describe(err error) (key, problem string) {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return keyPath(te.Field), typeProblem(te.Value, te.Type.String())
	}
	msg := err.Error()
	if m := typeErrRE.FindStringSubmatch(msg); m != nil {
		// the text names the root type first: "File.spec.images"
		_, field, _ := strings.Cut(m[2], ".")
		return keyPath(field), typeProblem(m[1], m[3])
	}
	if m := fieldErrRE.FindStringSubmatch(msg); m != nil {
		if m[1] == "duplicate" {
			return m[2], "given twice"
		}
		return m[2], "unknown key"
	}
	for _, prefix := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: ", "yaml: ", "json: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	if strings.Contains(msg, "Go ") || strings.Contains(msg, "Go value") {
		return "", "a value has the wrong type"
	}
	return "", msg
}

// Text is Describe as one message: "key: problem", or the problem alone.
func Text(err error) string {
	key, problem := Describe(err)
	if key == "" {
		return problem
	}
	return key + ": " + problem
}

// The messages of encoding/json and sigs.k8s.io/json, which
// sigs.k8s.io/yaml passes on as text only.
var (
	typeErrRE  = regexp.MustCompile(`cannot unmarshal (\w+) into Go (?:struct field (\S+)|value) of type (\S+)`)
	fieldErrRE = regexp.MustCompile(`(unknown|duplicate) field "([^"]*)"`)
)

// keyPath turns a Go field path ("Settings.override.error",
// "File.spec.images") into the input's keys: the names of Go structs
// (capitalised) are dropped.
func keyPath(field string) string {
	var keys []string
	for _, k := range strings.Split(field, ".") {
		if k != "" && (k[0] < 'A' || k[0] > 'Z') {
			keys = append(keys, k)
		}
	}
	return strings.Join(keys, ".")
}

// typeProblem says that a value of the JSON type got is not the Go type
// wanted, both in YAML/JSON terms.
func typeProblem(got, goType string) string {
	return inputType(got) + " is not allowed here, want " + Wanted(goType)
}

func inputType(jsonType string) string {
	switch jsonType {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true/false"
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	}
	return jsonType
}

// Wanted describes the input that decodes into a value of the Go type t
// (as reflect.Type.String writes it).
func Wanted(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case t == "bool":
		return "a boolean"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a mapping"
}
