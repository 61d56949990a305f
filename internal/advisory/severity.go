package advisory

// SeverityType says what a Severity's Value is.
type SeverityType string

// Severity types: the OSV severity[] types, and the words of records that
// rate a vulnerability in their own fields.
const (
	CVSSv2 SeverityType = "CVSS_V2"
	CVSSv3 SeverityType = "CVSS_V3" // 3.0 and 3.1 vectors
	CVSSv4 SeverityType = "CVSS_V4"
	// UbuntuPriority: Ubuntu's priority word (OSV type "Ubuntu", or
	// ecosystem_specific.ubuntu_priority).
	UbuntuPriority SeverityType = "Ubuntu"
	// DatabaseLevel: database_specific.severity of any record (GHSA's
	// LOW|MODERATE|HIGH|CRITICAL, in any case).
	DatabaseLevel SeverityType = "database_specific"
	// DebianUrgency: the security tracker's urgency for one package
	// (ecosystem_specific.urgency of DEBIAN-CVE records).
	DebianUrgency SeverityType = "debian_urgency"
)

// Level is a severity level as scanners report it.
type Level string

// The levels, lowest first.
const (
	LevelUnknown  Level = "UNKNOWN"
	LevelLow      Level = "LOW"
	LevelMedium   Level = "MEDIUM"
	LevelHigh     Level = "HIGH"
	LevelCritical Level = "CRITICAL"
)

// Rank orders levels: UNKNOWN 0, LOW 1 … CRITICAL 4.
func (l Level) Rank() int {
	switch l {
	case LevelLow:
		return 1
	case LevelMedium:
		return 2
	case LevelHigh:
		return 3
	case LevelCritical:
		return 4
	}
	return 0
}

// Severity is one rating of a vulnerability, kept with where it came from.
type Severity struct {
	Type  SeverityType
	Value string  // the vector or word as the record writes it
	Score float64 // CVSS base score computed from the vector; 0 for words
	Level Level   // the level Value maps to; UNKNOWN when it maps to none
	// Source names who gave the rating, as Trivy's SeveritySource does:
	// "debian", "ubuntu", "ghsa", "nvd", "osv" (a rating whose author the
	// record does not say).
	Source string
	// Record is the ID of the record the rating was read from. It differs
	// from the advisory's own ID when ResolveSeverity found it through a
	// linked ID.
	Record string
}

// IsVendor reports whether the rating is a vendor's word (Debian urgency,
// Ubuntu priority, a database_specific level) rather than a CVSS vector.
func (s Severity) IsVendor() bool {
	switch s.Type {
	case DebianUrgency, UbuntuPriority, DatabaseLevel:
		return true
	}
	return false
}
