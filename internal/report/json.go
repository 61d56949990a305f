package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as Trivy's JSON (schema version 2),
// indented by two spaces, with tollgate's Explanation, NotMatched and
// Notes fields added; empty optional fields are left out as Trivy leaves
// them out.
func WriteJSON(w io.Writer, r *Report, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
