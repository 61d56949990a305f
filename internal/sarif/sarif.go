// Package sarif is the subset of the SARIF 2.1.0 log format that tollgate
// writes and code-scanning services (GitHub, GitLab) read: one run of one
// tool, its rules, and results located by file and line. The reports of
// `dockerfile lint -f sarif` and `kube scan -f sarif` are built from it.
package sarif

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
)

// Schema and Version identify the format in a Log.
const (
	Schema  = "https://json.schemastore.org/sarif-2.1.0.json"
	Version = "2.1.0"
)

// Log is a SARIF document.
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is one run of one tool.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
	// ColumnKind says how columns are counted, when results carry any.
	ColumnKind string `json:"columnKind,omitempty"`
}

// Tool describes the tool of a run.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is the tool itself and the rules it reports against.
type Driver struct {
	Name           string `json:"name"`
	FullName       string `json:"fullName,omitempty"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri,omitempty"`
	Rules          []Rule `json:"rules"`
}

// Text is a plain-text message.
type Text struct {
	Text string `json:"text"`
}

// Rule describes one rule. Properties hold what SARIF has no field for
// (tags, points, selectors).
type Rule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     Text           `json:"shortDescription"`
	FullDescription      Text           `json:"fullDescription,omitzero"`
	Help                 Text           `json:"help,omitzero"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration RuleConfig     `json:"defaultConfiguration,omitzero"`
	Properties           map[string]any `json:"properties,omitempty"`
}

// RuleConfig is a rule's default configuration.
type RuleConfig struct {
	Level string `json:"level"`
}

// Result is one finding. RuleIndex is the position of its rule in the
// driver's rules.
type Result struct {
	RuleID    string     `json:"ruleId"`
	RuleIndex int        `json:"ruleIndex"`
	Level     string     `json:"level"`
	Message   Text       `json:"message"`
	Locations []Location `json:"locations"`
}

// Location is where a result is.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file and, when known, a region of it.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation names a file by URI.
type ArtifactLocation struct {
	URI string `json:"uri"`
}

// Region is a span of lines (and columns) of a file.
type Region struct {
	StartLine      int    `json:"startLine"`
	EndLine        int    `json:"endLine,omitempty"`
	StartColumn    int    `json:"startColumn,omitempty"`
	EndColumn      int    `json:"endColumn,omitempty"`
	SourceLanguage string `json:"sourceLanguage,omitempty"`
}

// URI turns a file path into the artifact URI code scanning expects: a
// relative path with forward slashes, or a file:// URI for an absolute
// path.
func URI(path string) string {
	p := filepath.ToSlash(path)
	if strings.HasPrefix(p, "/") {
		return "file://" + p
	}
	return strings.TrimPrefix(p, "./")
}

// Write writes log as indented JSON followed by a newline.
func Write(w io.Writer, log Log) error {
	b, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ToolVersion is version as a SARIF driver version, which must start with
// a digit: "v1.2.3" is "1.2.3", a development build ("dev", a commit hash)
// "0.0.0-dev"; "" stays "".
func ToolVersion(version string) string {
	v := strings.TrimPrefix(version, "v")
	switch {
	case v == "":
		return ""
	case v[0] >= '0' && v[0] <= '9':
		return v
	}
	return "0.0.0-" + version
}
