package advisory

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// ImportOptions configures Import.
type ImportOptions struct {
	// Dir holds the DB file and its lock (DefaultDir).
	Dir string
	// Report, when set, receives each problem found in the records.
	Report func(Problem)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Import builds a new DB from local zips, directories and JSON files
// (air-gapped sites) and replaces the DB in opts.Dir atomically. Inputs
// that are not OSV records are skipped and counted in the sources; bad
// parts of records are reported and dropped. If any path cannot be read
// the old DB is left as it was.
func Import(ctx context.Context, paths []string, opts ImportOptions) (Metadata, error) {
	if len(paths) == 0 {
		return Metadata{}, fmt.Errorf("nothing to import")
	}
	unlock, err := lockDir(ctx, opts.Dir)
	if err != nil {
		return Metadata{}, err
	}
	defer unlock()
	b := NewBuilder()
	b.Report, b.Now = opts.Report, opts.Now
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return Metadata{}, err
		}
		if _, err := b.AddPath(p); err != nil {
			return Metadata{}, err
		}
	}
	return b.Write(filepath.Join(opts.Dir, FileName))
}
