// Package format writes Dockerfile lint results in the output formats
// hadolint users rely on: tty (the default, for people), json, sarif (for
// GitHub code scanning), checkstyle, codeclimate, gitlab_codeclimate (alias
// gitlab) and gnu.
package format

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// Options tune the output.
type Options struct {
	// Color turns on ANSI colours in the tty format.
	Color bool
	// FilePath, when set, replaces the file name in every finding (useful
	// when linting stdin or a copy of the file).
	FilePath string
	// Version is the tool version written into SARIF.
	Version string
}

// Names lists the accepted format names (aliases included).
func Names() []string {
	return []string{"tty", "json", "sarif", "checkstyle", "codeclimate", "gitlab_codeclimate", "gitlab", "gnu"}
}

// Canonical returns the canonical name of a format, or an error for an
// unknown one.
func Canonical(name string) (string, error) {
	switch n := strings.ToLower(strings.TrimSpace(name)); n {
	case "", "tty":
		return "tty", nil
	case "gitlab", "gitlab_codeclimate", "gitlab-codeclimate":
		return "gitlab_codeclimate", nil
	case "json", "sarif", "checkstyle", "codeclimate", "gnu":
		return n, nil
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", name, strings.Join(Names(), ", "))
}

// Write writes results in the named format.
func Write(w io.Writer, name string, results []dockerfile.Result, opts Options) error {
	n, err := Canonical(name)
	if err != nil {
		return err
	}
	fs := findings(results, opts)
	switch n {
	case "tty":
		return writeTTY(w, fs, opts.Color)
	case "json":
		return writeJSON(w, fs)
	case "sarif":
		return writeSARIF(w, fs, opts.Version)
	case "checkstyle":
		return writeCheckstyle(w, results, opts)
	case "codeclimate":
		return writeCodeclimate(w, fs)
	case "gitlab_codeclimate":
		return writeGitlab(w, fs)
	case "gnu":
		return writeGNU(w, fs)
	}
	return fmt.Errorf("unknown format %q", name)
}

// findings flattens results in file order, renaming files if asked.
func findings(results []dockerfile.Result, opts Options) []dockerfile.Finding {
	var out []dockerfile.Finding
	for _, r := range results {
		for _, f := range r.Findings {
			if opts.FilePath != "" {
				f.File = opts.FilePath
			}
			out = append(out, f)
		}
	}
	return out
}

// ANSI colours per severity.
func colour(s dockerfile.Severity) string {
	switch s {
	case dockerfile.SeverityError:
		return "\x1b[31m" // red
	case dockerfile.SeverityWarning:
		return "\x1b[33m" // yellow
	case dockerfile.SeverityInfo:
		return "\x1b[32m" // green
	case dockerfile.SeverityStyle:
		return "\x1b[36m" // cyan
	}
	return ""
}

const reset = "\x1b[0m"

func writeTTY(w io.Writer, fs []dockerfile.Finding, color bool) error {
	var b strings.Builder
	for _, f := range fs {
		sev := f.Severity.String()
		if color {
			sev = colour(f.Severity) + sev + reset
		}
		fmt.Fprintf(&b, "%s:%d %s %s: %s\n", f.File, f.Line, f.Rule, sev, f.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonFinding is one finding in the json format. The keys are in
// alphabetical order, the order hadolint writes them in.
type jsonFinding struct {
	Code    string `json:"code"`
	Column  int    `json:"column"`
	File    string `json:"file"`
	Level   string `json:"level"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func writeJSON(w io.Writer, fs []dockerfile.Finding) error {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		out = append(out, jsonFinding{Code: f.Rule, Column: 1, File: f.File, Level: f.Severity.String(), Line: f.Line, Message: f.Message})
	}
	return writeJSONValue(w, out)
}

func writeJSONValue(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

func writeGNU(w io.Writer, fs []dockerfile.Finding) error {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "tollgate:%s:%d: %s %s: %s\n", f.File, f.Line, f.Rule, f.Severity, f.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// --- checkstyle ---------------------------------------------------------------

type csReport struct {
	XMLName xml.Name `xml:"checkstyle"`
	Version string   `xml:"version,attr"`
	Files   []csFile `xml:"file"`
}

type csFile struct {
	Name   string    `xml:"name,attr"`
	Errors []csError `xml:"error"`
}

type csError struct {
	Line     int    `xml:"line,attr"`
	Column   int    `xml:"column,attr"`
	Severity string `xml:"severity,attr"`
	Message  string `xml:"message,attr"`
	Source   string `xml:"source,attr"`
}

// writeCheckstyle writes one <file> per linted file, with its findings.
func writeCheckstyle(w io.Writer, results []dockerfile.Result, opts Options) error {
	rep := csReport{Version: "4.3"}
	byFile := map[string]int{}
	for _, r := range results {
		name := r.File
		if opts.FilePath != "" {
			name = opts.FilePath
		}
		i, ok := byFile[name]
		if !ok {
			i = len(rep.Files)
			byFile[name] = i
			rep.Files = append(rep.Files, csFile{Name: name})
		}
		for _, f := range r.Findings {
			rep.Files[i].Errors = append(rep.Files[i].Errors, csError{
				Line: f.Line, Column: 1, Severity: f.Severity.String(), Message: f.Message, Source: f.Rule,
			})
		}
	}
	b, err := xml.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// --- Code Climate / GitLab ------------------------------------------------------------

type ccIssue struct {
	Type        string     `json:"type"`
	CheckName   string     `json:"check_name"`
	Description string     `json:"description"`
	Categories  []string   `json:"categories"`
	Location    ccLocation `json:"location"`
	Severity    string     `json:"severity"`
	Fingerprint string     `json:"fingerprint,omitempty"`
}

type ccLocation struct {
	Path  string  `json:"path"`
	Lines ccLines `json:"lines"`
}

type ccLines struct {
	Begin int `json:"begin"`
	End   int `json:"end"`
}

func ccSeverity(s dockerfile.Severity) string {
	switch s {
	case dockerfile.SeverityError:
		return "blocker"
	case dockerfile.SeverityWarning:
		return "major"
	case dockerfile.SeverityInfo:
		return "info"
	}
	return "minor"
}

func ccIssueOf(f dockerfile.Finding) ccIssue {
	return ccIssue{
		Type: "issue", CheckName: f.Rule, Description: f.Message, Categories: []string{"Bug Risk"},
		Location: ccLocation{Path: f.File, Lines: ccLines{Begin: f.Line, End: f.Line}},
		Severity: ccSeverity(f.Severity),
	}
}

// writeCodeclimate writes Code Climate's engine format: one JSON issue per
// finding, each followed by a NUL byte.
func writeCodeclimate(w io.Writer, fs []dockerfile.Finding) error {
	for _, f := range fs {
		b, err := json.Marshal(ccIssueOf(f))
		if err != nil {
			return err
		}
		b = append(b, 0)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// writeGitlab writes GitLab's code quality report: a JSON array of Code
// Climate issues, each with a fingerprint (SHA-1 of the issue without it).
func writeGitlab(w io.Writer, fs []dockerfile.Finding) error {
	out := make([]ccIssue, 0, len(fs))
	for _, f := range fs {
		is := ccIssueOf(f)
		b, err := json.Marshal(is)
		if err != nil {
			return err
		}
		sum := sha1.Sum(b)
		is.Fingerprint = hex.EncodeToString(sum[:])
		out = append(out, is)
	}
	return writeJSONValue(w, out)
}

// --- SARIF ---------------------------------------------------------------------

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolURI      = "https://github.com/tollgate-dev/tollgate"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
	// ColumnKind says how columns count; all our columns are 1.
	ColumnKind string `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	FullName       string      `json:"fullName"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string              `json:"id"`
	Name                 string              `json:"name,omitempty"`
	ShortDescription     sarifText           `json:"shortDescription"`
	FullDescription      sarifText           `json:"fullDescription"`
	Help                 sarifText           `json:"help"`
	HelpURI              string              `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConfig     `json:"defaultConfiguration"`
	Properties           sarifRuleProperties `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProperties struct {
	Tags []string `json:"tags"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine      int    `json:"startLine"`
	EndLine        int    `json:"endLine"`
	StartColumn    int    `json:"startColumn"`
	EndColumn      int    `json:"endColumn"`
	SourceLanguage string `json:"sourceLanguage"`
}

func sarifLevel(s dockerfile.Severity) string {
	switch s {
	case dockerfile.SeverityError:
		return "error"
	case dockerfile.SeverityWarning:
		return "warning"
	}
	return "note"
}

// sarifURI turns a file path into the URI GitHub expects: a relative path
// with forward slashes, or a file:// URI for an absolute path.
func sarifURI(p string) string {
	p = filepath.ToSlash(p)
	if strings.HasPrefix(p, "/") {
		return "file://" + p
	}
	return strings.TrimPrefix(p, "./")
}

func writeSARIF(w io.Writer, fs []dockerfile.Finding, version string) error {
	meta := map[string]*dockerfile.Rule{}
	for _, r := range dockerfile.Rules() {
		meta[r.ID] = r
	}
	var ids []string
	for _, f := range fs {
		if !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	sort.Strings(ids)
	index := map[string]int{}
	driver := sarifDriver{
		Name: "tollgate", FullName: "tollgate Dockerfile linter",
		InformationURI: toolURI, Rules: []sarifRule{},
	}
	// SARIF wants a version that starts with a number; development builds
	// ("dev", a commit hash) are reported as 0.0.0-<what they are>.
	if v := strings.TrimPrefix(version, "v"); v != "" && v[0] >= '0' && v[0] <= '9' {
		driver.Version = v
	} else if version != "" {
		driver.Version = "0.0.0-" + version
	}
	for i, id := range ids {
		index[id] = i
		driver.Rules = append(driver.Rules, sarifRuleFor(id, meta[id]))
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}, ColumnKind: "unicodeCodePoints"}
	for _, f := range fs {
		run.Results = append(run.Results, sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			Message: sarifText{Text: f.Message},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: sarifURI(f.File)},
				Region:           sarifRegion{StartLine: f.Line, EndLine: f.Line, StartColumn: 1, EndColumn: 1, SourceLanguage: "dockerfile"},
			}}},
		})
	}
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
	b, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

func sarifRuleFor(id string, r *dockerfile.Rule) sarifRule {
	if r == nil { // DL1000, the parse error
		return sarifRule{
			ID: id, Name: "DockerfileParseError",
			ShortDescription:     sarifText{Text: "The Dockerfile does not parse."},
			FullDescription:      sarifText{Text: "The Dockerfile could not be parsed, so no other rule was checked."},
			Help:                 sarifText{Text: "Fix the syntax error at the reported line."},
			DefaultConfiguration: sarifRuleConfig{Level: "error"},
			Properties:           sarifRuleProperties{Tags: []string{"dockerfile"}},
		}
	}
	sr := sarifRule{
		ID:                   id,
		ShortDescription:     sarifText{Text: r.Message},
		FullDescription:      sarifText{Text: r.Explain},
		Help:                 sarifText{Text: r.Fix},
		DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(r.Severity)},
		Properties:           sarifRuleProperties{Tags: []string{"dockerfile"}},
	}
	if r.Severity == dockerfile.SeverityIgnore {
		sr.DefaultConfiguration.Level = "none"
	}
	if strings.HasPrefix(id, "DL") {
		sr.HelpURI = "https://github.com/hadolint/hadolint/wiki/" + id
		sr.Properties.Tags = append(sr.Properties.Tags, "hadolint")
	} else {
		sr.Properties.Tags = append(sr.Properties.Tags, "tollgate")
	}
	return sr
}
