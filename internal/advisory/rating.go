package advisory

import (
	"errors"
	"fmt"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// errBadVector is returned for a CVSS vector that does not parse.
var errBadVector = errors.New("not a valid CVSS vector")

// cvssScore computes the base score of a CVSS vector of the given type.
func cvssScore(typ SeverityType, vector string) (float64, error) {
	switch typ {
	case CVSSv2:
		v, err := gocvss20.ParseVector(strings.Trim(vector, "()")) // some records wrap v2 vectors in parentheses
		if err != nil {
			return 0, errBadVector
		}
		return v.BaseScore(), nil
	case CVSSv3:
		switch {
		case strings.HasPrefix(vector, "CVSS:3.1/"):
			v, err := gocvss31.ParseVector(vector)
			if err != nil {
				return 0, errBadVector
			}
			return v.BaseScore(), nil
		case strings.HasPrefix(vector, "CVSS:3.0/"):
			v, err := gocvss30.ParseVector(vector)
			if err != nil {
				return 0, errBadVector
			}
			return v.BaseScore(), nil
		}
		return 0, errBadVector
	case CVSSv4:
		v, err := gocvss40.ParseVector(vector)
		if err != nil {
			return 0, errBadVector
		}
		return v.Score(), nil
	}
	return 0, fmt.Errorf("%s is not a CVSS type", typ)
}

// cvssLevel maps a base score to a level with the NVD's bands. CVSS v2
// has no critical band; a score of 0 ("none") is UNKNOWN.
func cvssLevel(typ SeverityType, score float64) Level {
	switch {
	case score <= 0:
		return LevelUnknown
	case score < 4:
		return LevelLow
	case score < 7:
		return LevelMedium
	case score < 9 || typ == CVSSv2:
		return LevelHigh
	}
	return LevelCritical
}

// NewCVSS rates a CVSS vector of type typ (CVSSv2, CVSSv3, CVSSv4): the
// base score is computed and mapped to a level. A vector that does not
// parse is an error; the caller reports it.
func NewCVSS(typ SeverityType, vector, source, record string) (Severity, error) {
	score, err := cvssScore(typ, vector)
	if err != nil {
		return Severity{}, fmt.Errorf("%s %q: %w", typ, vector, err)
	}
	return Severity{Type: typ, Value: vector, Score: score, Level: cvssLevel(typ, score), Source: source, Record: record}, nil
}

// wordLevel maps a vendor's word to a level: GHSA's levels (MODERATE is
// MEDIUM), Debian's urgencies (unimportant and low* are LOW, medium* is
// MEDIUM, high* is HIGH; "not yet assigned" and "end-of-life" rate
// nothing), Ubuntu's priorities (negligible is LOW).
func wordLevel(typ SeverityType, word string) Level {
	w := strings.ToLower(strings.TrimSpace(word))
	w = strings.TrimRight(w, "*") // the tracker marks some urgencies low*, medium**
	switch typ {
	case DebianUrgency:
		switch w {
		case "unimportant", "low":
			return LevelLow
		case "medium":
			return LevelMedium
		case "high":
			return LevelHigh
		}
		return LevelUnknown
	}
	switch w {
	case "negligible", "low":
		return LevelLow
	case "moderate", "medium":
		return LevelMedium
	case "high", "important":
		return LevelHigh
	case "critical":
		return LevelCritical
	}
	return LevelUnknown
}

// NewWord rates a vendor's word (DebianUrgency, UbuntuPriority,
// DatabaseLevel).
func NewWord(typ SeverityType, word, source, record string) Severity {
	return Severity{Type: typ, Value: word, Level: wordLevel(typ, word), Source: source, Record: record}
}

// SourceOf names who rated a record by its ID prefix, for Severity.Source.
// CVSS vectors on distro and CVE records come from the NVD.
func SourceOf(id string, typ SeverityType) string {
	switch typ {
	case DebianUrgency:
		return "debian"
	case UbuntuPriority:
		return "ubuntu"
	}
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "GHSA":
		return "ghsa"
	case "CVE", "DEBIAN", "ALPINE":
		return "nvd"
	case "UBUNTU", "USN":
		return "ubuntu"
	case "PYSEC":
		return "pypa"
	case "GO":
		return "go"
	case "RUSTSEC":
		return "rustsec"
	}
	if strings.HasPrefix(id, "CVE-") {
		return "nvd"
	}
	return "osv"
}

// Preferred picks the rating a report shows from ratings of one
// vulnerability: a vendor's word with a level first (in the order given,
// so pass per-package ratings before record-wide ones), else the CVSS
// rating with the highest score, preferring newer CVSS versions on a tie.
// ok is false when no rating has a level.
func Preferred(ratings []Severity) (best Severity, ok bool) {
	for _, s := range ratings {
		if s.IsVendor() && s.Level != LevelUnknown {
			return s, true
		}
	}
	for _, s := range ratings {
		if s.IsVendor() || s.Level == LevelUnknown {
			continue
		}
		if !ok || s.Score > best.Score || (s.Score == best.Score && s.Type > best.Type) {
			best, ok = s, true
		}
	}
	return best, ok
}
