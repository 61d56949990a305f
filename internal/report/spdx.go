package report

import (
	"fmt"
	"io"
	"time"

	"github.com/tollgate-dev/tollgate/internal/sbom"
)

// WriteSPDX writes the scanned inventory as an SPDX 2.3 JSON SBOM, as
// Trivy's -f spdx-json does (packages only: SPDX has no place for
// vulnerabilities).
func WriteSPDX(w io.Writer, r *Report, o Options) error {
	if r.Inventory == nil {
		return fmt.Errorf("the report holds no inventory to write as SPDX")
	}
	return sbom.Write(w, r.Inventory, sbom.Options{Format: sbom.SPDXJSON, ToolVersion: o.ToolVersion, Now: func() time.Time { return r.CreatedAt }})
}
