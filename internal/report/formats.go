package report

import (
	"io"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// Options are what a writer may need besides the report.
type Options struct {
	// Color: the output is a terminal that shows colour (and NO_COLOR is
	// unset). Only the table uses it.
	Color bool
	// Explain: the table adds why each finding matched.
	Explain bool
	// Template is the text of a Go template (-f template).
	Template string
	// ToolVersion is tollgate's version, for SARIF and CycloneDX.
	ToolVersion string
}

// ScanWriter writes a scan report in one format.
type ScanWriter func(w io.Writer, r *Report, o Options) error

// ScanFormats are the output formats of `tollgate image|fs|rootfs|repo|
// sbom-scan`, by name (Trivy's names).
var ScanFormats = map[string]ScanWriter{
	"table":     WriteTable,
	"json":      WriteJSON,
	"sarif":     WriteSARIF,
	"cyclonedx": WriteCycloneDX,
	"spdx-json": WriteSPDX,
	"template":  WriteTemplate,
	"html":      WriteHTML,
}

// ScanFormatNames lists the format names, sorted.
func ScanFormatNames() []string {
	names := make([]string, 0, len(ScanFormats))
	for n := range ScanFormats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// LookupScanFormat returns the writer of a format, or a usage error that
// lists the formats.
func LookupScanFormat(name string) (ScanWriter, error) {
	if w, ok := ScanFormats[strings.ToLower(strings.TrimSpace(name))]; ok {
		return w, nil
	}
	return nil, outcome.Usagef("unknown --format %q: use %s", name, strings.Join(ScanFormatNames(), ", "))
}
