// Package advisory is tollgate's local advisory database: one embedded
// bbolt file built from OSV records (the OSV bulk export's
// <ECOSYSTEM>/all.zip files, or local zips, directories and JSON files),
// keyed by (ecosystem with release, normalised package name) so that the
// advisories of one package are one read away.
//
// A *DB is a value the caller opens and passes on; the package keeps no
// global state. Build (Import, Update) writes a new file beside the old
// one and renames it into place, so readers always see one whole DB.
package advisory

import (
	"encoding/json"
	"strings"
	"time"
)

// Advisory is one OSV record as the DB holds it.
type Advisory struct {
	ID            string
	SchemaVersion string // the record's schema_version, "" when absent
	Modified      time.Time
	Published     time.Time // zero when the record has none
	Withdrawn     time.Time // zero when the record is not withdrawn
	Aliases       []string  // the same vulnerability under other IDs
	Upstream      []string  // the records this one derives from (DSA → CVE, DEBIAN-CVE-…)
	Related       []string  // related but not the same vulnerability
	Summary       string
	Details       string
	References    []Reference
	// Severity holds the record's top-level ratings: its severity[] entries
	// and its database_specific.severity (GHSA's level).
	Severity []Severity
	Affected []Affected
}

// IsWithdrawn reports whether the record has been withdrawn.
func (a *Advisory) IsWithdrawn() bool { return !a.Withdrawn.IsZero() }

// Reference is one entry of references[].
type Reference struct {
	Type string // ADVISORY, FIX, WEB, …
	URL  string
}

// Affected is one entry of affected[]: a package of one ecosystem and the
// versions of it the advisory covers. A version is affected when it is in
// Versions or inside any range (Check).
type Affected struct {
	// Ecosystem as the record writes it, with its release:
	// "Debian:12", "Alpine:v3.19", "Go", "PyPI".
	Ecosystem string
	Name      string // as the record writes it (NormalizeName gives the lookup key)
	PURL      string
	Ranges    []Range
	Versions  []string
	// Severity holds the ratings given for this package only:
	// affected[].severity, Debian's ecosystem_specific.urgency, Ubuntu's
	// ecosystem_specific.ubuntu_priority.
	Severity []Severity
	// Status is a fix status the record states for this package
	// (StatusWillNotFix, StatusFixDeferred, StatusEndOfLife), "" when it
	// states none — most records do not; Check decides fixed/affected.
	Status FixStatus
	// EcosystemSpecific and DatabaseSpecific are kept verbatim (JSON), e.g.
	// the Go vulndb's imports/symbols or Ubuntu's binaries.
	EcosystemSpecific json.RawMessage
	DatabaseSpecific  json.RawMessage
}

// FixStatus is a fix status a record states for a package.
type FixStatus string

// Fix statuses a record can state (Trivy's names).
const (
	StatusWillNotFix  FixStatus = "will_not_fix"
	StatusFixDeferred FixStatus = "fix_deferred"
	StatusEndOfLife   FixStatus = "end_of_life"
)

// RangeType is an OSV range type.
type RangeType string

// The range types. The importer keeps ECOSYSTEM and SEMVER ranges; GIT
// ranges (commit hashes) cannot be matched against package versions and
// are dropped.
const (
	RangeSemver    RangeType = "SEMVER"
	RangeEcosystem RangeType = "ECOSYSTEM"
	RangeGit       RangeType = "GIT"
)

// Range is one entry of ranges[]. Events are in the record's order; every
// event version has been parsed with the range's ordering at import, so a
// stored range never holds a version its ordering cannot read.
type Range struct {
	Type   RangeType
	Repo   string
	Events []Event
}

// EventKind is the key of an OSV range event.
type EventKind string

// The event kinds.
const (
	Introduced   EventKind = "introduced"    // "0" = before every version
	Fixed        EventKind = "fixed"         // first version no longer affected
	LastAffected EventKind = "last_affected" // last version affected (inclusive)
	Limit        EventKind = "limit"         // upper bound of the range
)

// Event is one range event.
type Event struct {
	Kind    EventKind
	Version string
}

// GoImports returns the import paths of the packages a Go vulnerability
// record names for this module (ecosystem_specific.imports[].path): the
// packages whose code is vulnerable. It is nil when the record names none
// or the field is malformed, and the whole module is then affected.
func (af *Affected) GoImports() []string {
	if len(af.EcosystemSpecific) == 0 {
		return nil
	}
	var es struct {
		Imports []struct {
			Path string `json:"path"`
		} `json:"imports"`
	}
	if json.Unmarshal(af.EcosystemSpecific, &es) != nil {
		return nil
	}
	var out []string
	for _, im := range es.Imports {
		if p := strings.TrimSpace(im.Path); p != "" {
			out = append(out, p)
		}
	}
	return out
}
