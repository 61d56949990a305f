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

// The OSV JSON shapes (ossf/osv-schema). A record is first decoded in
// one pass into the typed form; only when that fails (a value of the
// wrong kind somewhere) is it decoded again part by part from
// json.RawMessage, so one bad range or event costs only itself.
type osvRecord struct {
	SchemaVersion    string          `json:"schema_version"`
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published"`
	Withdrawn        string          `json:"withdrawn"`
	Aliases          []string        `json:"aliases"`
	Upstream         []string        `json:"upstream"`
	Related          []string        `json:"related"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Severity         []osvSeverity   `json:"severity"`
	Affected         []osvAffected   `json:"affected"`
	References       []osvReference  `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

// rawRecord is osvRecord with every list left raw (the lenient path).
type rawRecord struct {
	SchemaVersion    string            `json:"schema_version"`
	ID               string            `json:"id"`
	Modified         string            `json:"modified"`
	Published        string            `json:"published"`
	Withdrawn        string            `json:"withdrawn"`
	Aliases          []json.RawMessage `json:"aliases"`
	Upstream         []json.RawMessage `json:"upstream"`
	Related          []json.RawMessage `json:"related"`
	Summary          json.RawMessage   `json:"summary"`
	Details          json.RawMessage   `json:"details"`
	Severity         []json.RawMessage `json:"severity"`
	Affected         []json.RawMessage `json:"affected"`
	References       []json.RawMessage `json:"references"`
	DatabaseSpecific json.RawMessage   `json:"database_specific"`
}

type osvReference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvPackage struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl"`
}

type osvAffected struct {
	Package           osvPackage      `json:"package"`
	Severity          []osvSeverity   `json:"severity"`
	Ranges            []osvRange      `json:"ranges"`
	Versions          []string        `json:"versions"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
	DatabaseSpecific  json.RawMessage `json:"database_specific"`
}

type rawAffected struct {
	Package           osvPackage        `json:"package"`
	Severity          []json.RawMessage `json:"severity"`
	Ranges            []json.RawMessage `json:"ranges"`
	Versions          []json.RawMessage `json:"versions"`
	EcosystemSpecific json.RawMessage   `json:"ecosystem_specific"`
	DatabaseSpecific  json.RawMessage   `json:"database_specific"`
}

type osvRange struct {
	Type   string     `json:"type"`
	Repo   string     `json:"repo"`
	Events []osvEvent `json:"events"`
}

type rawRange struct {
	Type   string            `json:"type"`
	Repo   string            `json:"repo"`
	Events []json.RawMessage `json:"events"`
}

// osvEvent holds the one key an event must have; n counts the keys set
// (the lenient path also counts keys it does not know).
type osvEvent struct {
	Introduced   *string `json:"introduced"`
	Fixed        *string `json:"fixed"`
	LastAffected *string `json:"last_affected"`
	Limit        *string `json:"limit"`
	unknown      string
}

// event returns the event's one key, or ok false.
func (e osvEvent) event() (Event, int) {
	var out Event
	n := 0
	for _, kv := range []struct {
		k EventKind
		v *string
	}{{Introduced, e.Introduced}, {Fixed, e.Fixed}, {LastAffected, e.LastAffected}, {Limit, e.Limit}} {
		if kv.v != nil {
			out = Event{Kind: kv.k, Version: strings.TrimSpace(*kv.v)}
			n++
		}
	}
	return out, n
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
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return Advisory{}, fmt.Errorf("%w: %s", errNotOSV, jsonProblem(err))
		}
		r, err = p.lenient(data)
		if err != nil {
			return Advisory{}, err
		}
	}
	return p.build(&r)
}

// lenient decodes a record part by part, dropping (and reporting) the
// parts whose values have the wrong kind.
func (p *recordParser) lenient(data []byte) (osvRecord, error) {
	var raw rawRecord
	if err := json.Unmarshal(data, &raw); err != nil {
		return osvRecord{}, fmt.Errorf("%w: %s", errNotOSV, jsonProblem(err))
	}
	p.id = raw.ID
	r := osvRecord{SchemaVersion: raw.SchemaVersion, ID: raw.ID, Modified: raw.Modified, Published: raw.Published,
		Withdrawn: raw.Withdrawn, DatabaseSpecific: raw.DatabaseSpecific}
	r.Aliases = p.rawStrings("aliases", raw.Aliases)
	r.Upstream = p.rawStrings("upstream", raw.Upstream)
	r.Related = p.rawStrings("related", raw.Related)
	if json.Unmarshal(raw.Summary, &r.Summary) != nil && len(raw.Summary) > 0 {
		p.problem("summary is not a string; dropped")
	}
	if json.Unmarshal(raw.Details, &r.Details) != nil && len(raw.Details) > 0 {
		p.problem("details is not a string; dropped")
	}
	r.Severity = decodeEach[osvSeverity](p, raw.Severity, "a severity is not {type, score}; dropped")
	r.References = decodeEach[osvReference](p, raw.References, "a reference is not {type, url}; dropped")
	for i, ra := range raw.Affected {
		var af osvAffected
		if json.Unmarshal(ra, &af) == nil {
			r.Affected = append(r.Affected, af)
			continue
		}
		var rawAf rawAffected
		if err := json.Unmarshal(ra, &rawAf); err != nil {
			p.problem("affected[%d]: %s; dropped", i, jsonProblem(err))
			continue
		}
		where := fmt.Sprintf("affected[%d] (%s %s)", i, rawAf.Package.Ecosystem, rawAf.Package.Name)
		af = osvAffected{Package: rawAf.Package, EcosystemSpecific: rawAf.EcosystemSpecific, DatabaseSpecific: rawAf.DatabaseSpecific}
		af.Severity = decodeEach[osvSeverity](p, rawAf.Severity, where+": a severity is not {type, score}; dropped")
		af.Versions = p.rawStrings(where+" versions", rawAf.Versions)
		for j, rr := range rawAf.Ranges {
			var rg rawRange
			if err := json.Unmarshal(rr, &rg); err != nil {
				p.problem("%s ranges[%d]: %s; dropped", where, j, jsonProblem(err))
				af.Ranges = append(af.Ranges, osvRange{Type: "invalid"})
				continue
			}
			out := osvRange{Type: rg.Type, Repo: rg.Repo}
			for _, re := range rg.Events {
				var m map[string]json.RawMessage
				var ev osvEvent
				if json.Unmarshal(re, &m) == nil {
					for k, v := range m {
						var s string
						if json.Unmarshal(v, &s) != nil {
							ev.unknown = k
							continue
						}
						switch EventKind(k) {
						case Introduced:
							ev.Introduced = &s
						case Fixed:
							ev.Fixed = &s
						case LastAffected:
							ev.LastAffected = &s
						case Limit:
							ev.Limit = &s
						default:
							ev.unknown = k
						}
					}
				}
				out.Events = append(out.Events, ev)
			}
			af.Ranges = append(af.Ranges, out)
		}
		r.Affected = append(r.Affected, af)
	}
	return r, nil
}

// decodeEach decodes the elements of a list that have the right shape,
// reporting each other one with msg.
func decodeEach[T any](p *recordParser, raws []json.RawMessage, msg string) []T {
	var out []T
	for _, raw := range raws {
		var v T
		if json.Unmarshal(raw, &v) != nil {
			p.problem("%s", msg)
			continue
		}
		out = append(out, v)
	}
	return out
}

// rawStrings keeps the string elements of a list, reporting the others.
func (p *recordParser) rawStrings(field string, raws []json.RawMessage) []string {
	return decodeEach[string](p, raws, field+": an element is not a string; dropped")
}

func (p *recordParser) build(r *osvRecord) (Advisory, error) {
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
	for _, ref := range r.References {
		if ref.URL == "" {
			p.problem("a reference has no url; dropped")
			continue
		}
		a.References = append(a.References, Reference{Type: ref.Type, URL: ref.URL})
	}
	a.Severity = p.severities("", r.Severity)
	if lvl := databaseLevel(r.DatabaseSpecific); lvl != "" {
		a.Severity = append(a.Severity, NewWord(DatabaseLevel, lvl, SourceOf(r.ID, DatabaseLevel), ""))
	}
	for i := range r.Affected {
		if af, ok := p.affected(i, &r.Affected[i]); ok {
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

func (p *recordParser) severities(where string, list []osvSeverity) []Severity {
	var out []Severity
	for _, s := range list {
		typ := SeverityType(s.Type)
		switch typ {
		case CVSSv2, CVSSv3, CVSSv4:
			sev, err := NewCVSS(typ, s.Score, SourceOf(p.id, typ), "")
			if err != nil {
				p.problem("%sseverity %v; dropped", where, err)
				continue
			}
			out = append(out, sev)
		case UbuntuPriority:
			out = append(out, NewWord(UbuntuPriority, s.Score, "ubuntu", ""))
		default:
			p.problem("%sseverity type %q is not one tollgate reads; dropped", where, s.Type)
		}
	}
	return out
}

func (p *recordParser) affected(i int, oa *osvAffected) (Affected, bool) {
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
	for _, v := range oa.Versions {
		if strings.TrimSpace(v) == "" {
			p.problem("%s: an empty listed version; dropped", where)
			continue
		}
		af.Versions = append(af.Versions, v)
	}
	for j := range oa.Ranges {
		if r, ok := p.rangeOf(where, j, &af, &oa.Ranges[j]); ok {
			af.Ranges = append(af.Ranges, r)
		}
	}
	af.Severity = p.severities(where+": ", oa.Severity)
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

func (p *recordParser) rangeOf(where string, j int, af *Affected, or *osvRange) (Range, bool) {
	where = fmt.Sprintf("%s ranges[%d]", where, j)
	typ := RangeType(or.Type)
	var ord version.Ordering
	checkVersions := false
	switch typ {
	case RangeGit:
	case RangeSemver, RangeEcosystem:
		o, err := af.orderingOf(typ)
		ord, checkVersions = o, err == nil
	case "invalid":
		return Range{}, false // reported by the lenient decoder
	default:
		p.problem("%s: range type %q unknown; dropped", where, or.Type)
		return Range{}, false
	}
	r := Range{Type: typ, Repo: or.Repo}
	hasIntro := false
	for k, oe := range or.Events {
		e, n := oe.event()
		switch {
		case n == 0 && oe.unknown != "":
			p.problem("%s events[%d]: unknown event %q; dropped", where, k, oe.unknown)
			continue
		case n != 1 || oe.unknown != "":
			p.problem("%s events[%d]: an event must have exactly one string key; dropped", where, k)
			continue
		case e.Version == "":
			p.problem("%s events[%d]: %s has no version; dropped", where, k, e.Kind)
			continue
		}
		unbounded := (e.Kind == Introduced && e.Version == "0") || (e.Kind == Limit && e.Version == "*")
		switch {
		case unbounded:
		case typ == RangeGit:
			if !isCommit(e.Version) {
				p.problem("%s events[%d]: %s %q is not a commit hash; dropped", where, k, e.Kind, e.Version)
				continue
			}
		case checkVersions:
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
