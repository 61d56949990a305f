package advisory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/version"
)

// Problem is bad data found in an input: the record (when known) and
// what was wrong. Records with problems are kept with their valid parts.
type Problem struct {
	Source string // file, or zip and entry
	ID     string // record ID, "" when the record could not be read
	Msg    string
}

func (p Problem) String() string {
	if p.ID == "" {
		return p.Source + ": " + p.Msg
	}
	return p.Source + ": " + p.ID + ": " + p.Msg
}

// errNotOSV marks input that is not an OSV record at all (skipped and
// counted, not a problem of a record).
var errNotOSV = errors.New("not an OSV record")

// The OSV JSON shapes (ossf/osv-schema). Parts that real data gets wrong
// are json.RawMessage and decoded one by one, so one bad range or event
// costs only itself.
type osvRecord struct {
	SchemaVersion    string            `json:"schema_version"`
	ID               string            `json:"id"`
	Modified         string            `json:"modified"`
	Published        string            `json:"published"`
	Withdrawn        string            `json:"withdrawn"`
	Aliases          []string          `json:"aliases"`
	Upstream         []string          `json:"upstream"`
	Related          []string          `json:"related"`
	Summary          string            `json:"summary"`
	Details          string            `json:"details"`
	Severity         []json.RawMessage `json:"severity"`
	Affected         []json.RawMessage `json:"affected"`
	References       []json.RawMessage `json:"references"`
	DatabaseSpecific json.RawMessage   `json:"database_specific"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		Purl      string `json:"purl"`
	} `json:"package"`
	Severity          []json.RawMessage `json:"severity"`
	Ranges            []json.RawMessage `json:"ranges"`
	Versions          []json.RawMessage `json:"versions"`
	EcosystemSpecific json.RawMessage   `json:"ecosystem_specific"`
	DatabaseSpecific  json.RawMessage   `json:"database_specific"`
}

type osvRange struct {
	Type   string            `json:"type"`
	Repo   string            `json:"repo"`
	Events []json.RawMessage `json:"events"`
}

// recordParser turns one OSV JSON document into an Advisory, reporting
// what it drops.
type recordParser struct {
	source   string
	id       string
	problems []Problem
}

func (p *recordParser) problem(format string, args ...any) {
	p.problems = append(p.problems, Problem{Source: p.source, ID: p.id, Msg: fmt.Sprintf(format, args...)})
}

// ParseOSV parses one OSV record. It returns the advisory with every
// valid part kept and the problems found in the parts it dropped. An
// error means the document is not an OSV record at all (not JSON, not an
// object, no id or modified time).
func ParseOSV(source string, data []byte) (Advisory, []Problem, error) {
	p := recordParser{source: source}
	a, err := p.parse(data)
	return a, p.problems, err
}

func (p *recordParser) parse(data []byte) (Advisory, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Advisory{}, fmt.Errorf("%w: not a JSON object", errNotOSV)
	}
	var r osvRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return Advisory{}, fmt.Errorf("%w: %s", errNotOSV, jsonProblem(err))
	}
	if r.ID == "" || r.Modified == "" {
		return Advisory{}, fmt.Errorf("%w: no id or modified time", errNotOSV)
	}
	p.id = r.ID
	a := Advisory{
		ID:            r.ID,
		SchemaVersion: r.SchemaVersion,
		Aliases:       nonEmpty(r.Aliases),
		Upstream:      nonEmpty(r.Upstream),
		Related:       nonEmpty(r.Related),
		Summary:       r.Summary,
		Details:       r.Details,
	}
	a.Modified = p.time("modified", r.Modified)
	a.Published = p.time("published", r.Published)
	a.Withdrawn = p.time("withdrawn", r.Withdrawn)
	for _, raw := range r.References {
		var ref struct{ Type, URL string }
		if err := json.Unmarshal(raw, &ref); err != nil || ref.URL == "" {
			p.problem("a reference is not {type, url}; dropped")
			continue
		}
		a.References = append(a.References, Reference{Type: ref.Type, URL: ref.URL})
	}
	a.Severity = p.severities(r.Severity)
	if lvl := databaseLevel(r.DatabaseSpecific); lvl != "" {
		a.Severity = append(a.Severity, NewWord(DatabaseLevel, lvl, SourceOf(r.ID, DatabaseLevel), ""))
	}
	for i, raw := range r.Affected {
		if af, ok := p.affected(i, raw); ok {
			a.Affected = append(a.Affected, af)
		}
	}
	return a, nil
}

// jsonProblem words a JSON decoding error without Go type names.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		if ute.Field != "" {
			return fmt.Sprintf("field %q has the wrong kind of value (%s)", ute.Field, ute.Value)
		}
		return fmt.Sprintf("a value has the wrong kind (%s)", ute.Value)
	}
	return "invalid JSON"
}

func nonEmpty(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (p *recordParser) time(field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.problem("%s time %q is not RFC 3339; ignored", field, s)
		return time.Time{}
	}
	return t.UTC()
}

// databaseLevel returns database_specific.severity when it is a string.
func databaseLevel(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var ds struct {
		Severity json.RawMessage `json:"severity"`
	}
	if json.Unmarshal(raw, &ds) != nil || len(ds.Severity) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(ds.Severity, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

func (p *recordParser) severities(raws []json.RawMessage) []Severity {
	var out []Severity
	for _, raw := range raws {
		var s osvSeverity
		if err := json.Unmarshal(raw, &s); err != nil {
			p.problem("a severity is not {type, score}; dropped")
			continue
		}
		typ := SeverityType(s.Type)
		switch typ {
		case CVSSv2, CVSSv3, CVSSv4:
			sev, err := NewCVSS(typ, s.Score, SourceOf(p.id, typ), "")
			if err != nil {
				p.problem("severity %v; dropped", err)
				continue
			}
			out = append(out, sev)
		case UbuntuPriority:
			out = append(out, NewWord(UbuntuPriority, s.Score, "ubuntu", ""))
		default:
			p.problem("severity type %q is not one tollgate reads; dropped", s.Type)
		}
	}
	return out
}

func (p *recordParser) affected(i int, raw json.RawMessage) (Affected, bool) {
	var oa osvAffected
	if err := json.Unmarshal(raw, &oa); err != nil {
		p.problem("affected[%d]: %s; dropped", i, jsonProblem(err))
		return Affected{}, false
	}
	eco, name := strings.TrimSpace(oa.Package.Ecosystem), strings.TrimSpace(oa.Package.Name)
	if eco == "" || name == "" {
		p.problem("affected[%d] has no package ecosystem or name; dropped", i)
		return Affected{}, false
	}
	af := Affected{
		Ecosystem:         eco,
		Name:              name,
		PURL:              oa.Package.Purl,
		EcosystemSpecific: compactJSON(oa.EcosystemSpecific),
		DatabaseSpecific:  compactJSON(oa.DatabaseSpecific),
	}
	where := fmt.Sprintf("affected[%d] (%s %s)", i, eco, name)
	for _, rv := range oa.Versions {
		var v string
		if json.Unmarshal(rv, &v) != nil || strings.TrimSpace(v) == "" {
			p.problem("%s: a listed version is not a string; dropped", where)
			continue
		}
		af.Versions = append(af.Versions, v)
	}
	for j, rr := range oa.Ranges {
		if r, ok := p.rangeOf(where, j, &af, rr); ok {
			af.Ranges = append(af.Ranges, r)
		}
	}
	af.Severity = p.severities(oa.Severity)
	p.vendorRatings(&af)
	if len(af.Ranges) == 0 && len(af.Versions) == 0 {
		return Affected{}, false // nothing left that a version can match (e.g. GIT ranges only)
	}
	return af, true
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return nil
	}
	return b.Bytes()
}

// vendorRatings reads the per-package words distro records carry:
// Debian's urgency and Ubuntu's priority in ecosystem_specific, and a
// fix status where one is stated.
func (p *recordParser) vendorRatings(af *Affected) {
	if len(af.EcosystemSpecific) == 0 {
		return
	}
	var es struct {
		Urgency        json.RawMessage `json:"urgency"`
		UbuntuPriority json.RawMessage `json:"ubuntu_priority"`
		Status         json.RawMessage `json:"status"`
	}
	if json.Unmarshal(af.EcosystemSpecific, &es) != nil {
		return
	}
	str := func(raw json.RawMessage) string {
		var s string
		if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	if u := str(es.Urgency); u != "" {
		af.Severity = append(af.Severity, NewWord(DebianUrgency, u, "debian", ""))
		if strings.EqualFold(u, "end-of-life") {
			af.Status = StatusEndOfLife
		}
	}
	if u := str(es.UbuntuPriority); u != "" {
		af.Severity = append(af.Severity, NewWord(UbuntuPriority, u, "ubuntu", ""))
	}
	switch s := FixStatus(strings.ToLower(str(es.Status))); s {
	case StatusWillNotFix, StatusFixDeferred, StatusEndOfLife:
		af.Status = s
	}
}

// isCommit reports whether s looks like a git commit hash.
func isCommit(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	return strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

func (p *recordParser) rangeOf(where string, j int, af *Affected, raw json.RawMessage) (Range, bool) {
	var or osvRange
	if err := json.Unmarshal(raw, &or); err != nil {
		p.problem("%s ranges[%d]: %s; dropped", where, j, jsonProblem(err))
		return Range{}, false
	}
	where = fmt.Sprintf("%s ranges[%d]", where, j)
	typ := RangeType(or.Type)
	var ord version.Ordering
	checkVersions := false
	switch typ {
	case RangeGit:
	case RangeSemver, RangeEcosystem:
		o, err := af.orderingOf(typ)
		ord, checkVersions = o, err == nil
	default:
		p.problem("%s: range type %q unknown; dropped", where, or.Type)
		return Range{}, false
	}
	r := Range{Type: typ, Repo: or.Repo}
	hasIntro := false
	for k, re := range or.Events {
		var ev map[string]string
		if err := json.Unmarshal(re, &ev); err != nil || len(ev) != 1 {
			p.problem("%s events[%d]: an event must have exactly one string key; dropped", where, k)
			continue
		}
		var e Event
		for kind, v := range ev {
			e = Event{Kind: EventKind(kind), Version: strings.TrimSpace(v)}
		}
		switch e.Kind {
		case Introduced, Fixed, LastAffected, Limit:
		default:
			p.problem("%s events[%d]: unknown event %q; dropped", where, k, e.Kind)
			continue
		}
		if e.Version == "" {
			p.problem("%s events[%d]: %s has no version; dropped", where, k, e.Kind)
			continue
		}
		switch {
		case typ == RangeGit:
			if !(e.Kind == Introduced && e.Version == "0") && !(e.Kind == Limit && e.Version == "*") && !isCommit(e.Version) {
				p.problem("%s events[%d]: %s %q is not a commit hash; dropped", where, k, e.Kind, e.Version)
				continue
			}
		case checkVersions && !(e.Kind == Introduced && e.Version == "0") && !(e.Kind == Limit && e.Version == "*"):
			if _, err := version.ParseOrdering(ord, e.Version); err != nil {
				if e.Kind == Introduced {
					p.problem("%s events[%d]: %s %q: not a %s version; dropped", where, k, e.Kind, e.Version, ord)
				} else {
					// Dropping an upper bound widens the range: a false alarm
					// beats the false negative of dropping the range.
					p.problem("%s events[%d]: %s %q: not a %s version; dropped, so the range has no upper bound there", where, k, e.Kind, e.Version, ord)
				}
				continue
			}
		}
		if e.Kind == Introduced {
			hasIntro = true
		}
		r.Events = append(r.Events, e)
	}
	if typ == RangeGit {
		return Range{}, false // commit ranges need the repository graph; never matched against versions
	}
	if !hasIntro {
		if len(r.Events) > 0 {
			p.problem("%s: no valid introduced event left; range dropped", where)
		} else if len(or.Events) > 0 {
			p.problem("%s: no valid event left; range dropped", where)
		}
		return Range{}, false
	}
	return r, true
}
