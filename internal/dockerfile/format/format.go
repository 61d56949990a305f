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
	"slices"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/output"
	"github.com/tollgate-dev/tollgate/internal/sarif"
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
	// Rules are the linter's rules, which SARIF describes; nil means every
	// rule (dockerfile.Rules).
	Rules []*dockerfile.Rule
}

// Report is what a writer gets: the results of a lint run and the options.
type Report struct {
	Results []dockerfile.Result
	Options
}

// formats is the one registry of the lint report's formats: every name is
// checked here. It is built once and never changed.
var formats = output.NewRegistry("dockerfile lint",
	output.Format[output.Writer[Report]]{Name: "tty", Writer: func(w io.Writer, r Report) error { return writeTTY(w, findings(r), r.Color) }},
	output.Format[output.Writer[Report]]{Name: "json", Writer: func(w io.Writer, r Report) error { return writeJSON(w, findings(r)) }},
	output.Format[output.Writer[Report]]{Name: "sarif", Writer: writeSARIF},
	output.Format[output.Writer[Report]]{Name: "checkstyle", Writer: writeCheckstyle},
	output.Format[output.Writer[Report]]{Name: "codeclimate", Writer: func(w io.Writer, r Report) error { return writeCodeclimate(w, findings(r)) }},
	output.Format[output.Writer[Report]]{Name: "gitlab_codeclimate", Aliases: []string{"gitlab", "gitlab-codeclimate"},
		Writer: func(w io.Writer, r Report) error { return writeGitlab(w, findings(r)) }},
	output.Format[output.Writer[Report]]{Name: "gnu", Writer: func(w io.Writer, r Report) error { return writeGNU(w, findings(r)) }},
)

// Names lists the accepted format names (aliases included).
func Names() []string {
	return slices.DeleteFunc(formats.AllNames(), func(n string) bool { return n == "gitlab-codeclimate" })
}

// Canonical returns the canonical name of a format ("" is tty), or a usage
// error listing the formats.
func Canonical(name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "tty", nil
	}
	n, _, err := formats.Lookup(name)
	return n, err
}

// Lookup returns the writer of the named format ("" is tty).
func Lookup(name string) (output.Writer[Report], error) {
	if strings.TrimSpace(name) == "" {
		name = "tty"
	}
	_, w, err := formats.Lookup(name)
	return w, err
}

// Write writes results in the named format.
func Write(w io.Writer, name string, results []dockerfile.Result, opts Options) error {
	write, err := Lookup(name)
	if err != nil {
		return err
	}
	return write(w, Report{Results: results, Options: opts})
}

// findings flattens results in file order, renaming files if asked.
func findings(rep Report) []dockerfile.Finding {
	var out []dockerfile.Finding
	opts := rep.Options
	for _, r := range rep.Results {
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
		fmt.Fprintf(&b, "%s:%d %s %s: %s\n", output.Escape(f.File), f.Line, f.Rule, sev, output.Escape(f.Message))
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
		fmt.Fprintf(&b, "tollgate:%s:%d: %s %s: %s\n", output.Escape(f.File), f.Line, f.Rule, f.Severity, output.Escape(f.Message))
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
func writeCheckstyle(w io.Writer, lint Report) error {
	rep := csReport{Version: "4.3"}
	byFile := map[string]int{}
	opts := lint.Options
	for _, r := range lint.Results {
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

const toolURI = "https://github.com/tollgate-dev/tollgate"

func sarifLevel(s dockerfile.Severity) string {
	switch s {
	case dockerfile.SeverityError:
		return "error"
	case dockerfile.SeverityWarning:
		return "warning"
	}
	return "note"
}

func writeSARIF(w io.Writer, rep Report) error {
	fs, version := findings(rep), rep.Version
	rules := rep.Rules
	if rules == nil {
		rules = dockerfile.Rules()
	}
	meta := map[string]*dockerfile.Rule{}
	for _, r := range rules {
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
	driver := sarif.Driver{
		Name: "tollgate", FullName: "tollgate Dockerfile linter",
		InformationURI: toolURI, Rules: []sarif.Rule{},
	}
	driver.Version = sarif.ToolVersion(version)
	for i, id := range ids {
		index[id] = i
		driver.Rules = append(driver.Rules, sarifRuleFor(id, meta[id]))
	}
	run := sarif.Run{Tool: sarif.Tool{Driver: driver}, Results: []sarif.Result{}, ColumnKind: "unicodeCodePoints"}
	for _, f := range fs {
		run.Results = append(run.Results, sarif.Result{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			Message: sarif.Text{Text: f.Message},
			Locations: []sarif.Location{{PhysicalLocation: sarif.PhysicalLocation{
				ArtifactLocation: sarif.ArtifactLocation{URI: sarif.URI(f.File)},
				Region:           &sarif.Region{StartLine: f.Line, EndLine: f.Line, StartColumn: 1, EndColumn: 1, SourceLanguage: "dockerfile"},
			}}},
		})
	}
	return sarif.Write(w, sarif.Log{Schema: sarif.Schema, Version: sarif.Version, Runs: []sarif.Run{run}})
}

func sarifRuleFor(id string, r *dockerfile.Rule) sarif.Rule {
	if r == nil { // a finding of a rule the linter did not list
		return sarif.Rule{ID: id, ShortDescription: sarif.Text{Text: id}, DefaultConfiguration: sarif.RuleConfig{Level: "warning"}}
	}
	sr := sarif.Rule{
		ID:                   id,
		Name:                 r.Name,
		ShortDescription:     sarif.Text{Text: r.Message},
		FullDescription:      sarif.Text{Text: r.Explain},
		Help:                 sarif.Text{Text: r.Fix},
		DefaultConfiguration: sarif.RuleConfig{Level: sarifLevel(r.Severity)},
	}
	if r.Severity == dockerfile.SeverityIgnore {
		sr.DefaultConfiguration.Level = "none"
	}
	tags := []string{"dockerfile", "tollgate"}
	if strings.HasPrefix(id, "DL") {
		tags[1] = "hadolint"
		if id != dockerfile.ParseErrorRule { // hadolint's wiki has no page for DL1000
			sr.HelpURI = "https://github.com/hadolint/hadolint/wiki/" + id
		}
	}
	sr.Properties = map[string]any{"tags": tags}
	return sr
}
