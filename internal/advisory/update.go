package advisory

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// DefaultBaseURL is the OSV bulk export: <base>/<ECOSYSTEM>/all.zip.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultEcosystems are the ecosystems db update fetches by default.
var DefaultEcosystems = []string{"Debian", "Ubuntu", "Alpine", "Go", "PyPI", "npm", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist"}

// UpdateOptions configures Update.
type UpdateOptions struct {
	// Dir holds the DB file and its lock (DefaultDir).
	Dir string
	// BaseURL of the export or a mirror of it (DefaultBaseURL when "").
	BaseURL string
	// Ecosystems to fetch (DefaultEcosystems when empty).
	Ecosystems []string
	// Repository, when set, is an OCI reference to pull a DB pushed with
	// Push from, instead of downloading the export.
	Repository string
	// Client for HTTP downloads (http.DefaultClient when nil).
	Client *http.Client
	// Progress, when set, receives progress output (a bar when Terminal).
	Progress io.Writer
	Terminal bool
	// Report, when set, receives each problem found in the records.
	Report func(Problem)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// UpdateResult says what an update did.
type UpdateResult struct {
	Metadata Metadata
	// Unchanged lists the ecosystems the server said had not changed
	// (304); Downloaded those fetched again.
	Unchanged, Downloaded []string
	// Rebuilt is false when nothing changed and the DB was left as it was.
	Rebuilt bool
}

// Update fetches the advisory data and replaces the DB atomically.
func Update(ctx context.Context, opts UpdateOptions) (UpdateResult, error) {
	return UpdateResult{}, errors.New("db update is not implemented yet")
}
