package dockerfile

import (
	"fmt"
	"strings"
)

// Severity ranks findings. The zero value is SeverityIgnore, the lowest.
type Severity uint8

// Severities from lowest to highest.
const (
	SeverityIgnore Severity = iota
	SeverityStyle
	SeverityInfo
	SeverityWarning
	SeverityError
)

var severityNames = [...]string{"ignore", "style", "info", "warning", "error"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity parses error, warning, info, style, ignore or none (a
// synonym of ignore, as hadolint accepts for the failure threshold).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return SeverityError, nil
	case "warning":
		return SeverityWarning, nil
	case "info":
		return SeverityInfo, nil
	case "style":
		return SeverityStyle, nil
	case "ignore", "none":
		return SeverityIgnore, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning, info, style or ignore)", s)
}
