package advisory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DefaultMaxAge is how old a DB may get before a scan updates it first.
// The OSV export changes continuously; Trivy's DB is rebuilt every 6 h and
// considered current for 24 h.
const DefaultMaxAge = 24 * time.Hour

// FileName is the DB file's name inside its directory.
const FileName = "tollgate.db"

// DefaultDir returns the directory the DB lives in under a cache
// directory: <cacheDir>/db. Pass "" for the user cache directory
// (os.UserCacheDir()/tollgate).
func DefaultDir(cacheDir string) (string, error) {
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("finding the user cache directory (set --cache-dir or TOLLGATE_CACHE_DIR): %w", err)
		}
		cacheDir = filepath.Join(base, "tollgate")
	}
	return filepath.Join(cacheDir, "db"), nil
}

// ScanOptions says how a scan gets its DB (OpenForScan).
type ScanOptions struct {
	// Dir holds the DB file (DefaultDir).
	Dir string
	// MaxAge: an older DB is updated first (DefaultMaxAge when 0).
	MaxAge time.Duration
	// SkipUpdate: never update; a missing DB is an error.
	SkipUpdate bool
	// Offline: no network at all (implies SkipUpdate).
	Offline bool
	// Update configures the update done when one is needed; its Dir is
	// taken from Dir.
	Update UpdateOptions
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// ErrNeedDB: a scan found no usable DB and was not allowed to fetch one.
// The message says how to get one.
var ErrNeedDB = errors.New("no advisory DB available")

// OpenForScan opens the DB a scan reads. A missing DB, or one older than
// MaxAge, is updated first (Update) unless SkipUpdate or Offline is set.
// With no DB and no way to get one the error wraps ErrNeedDB and says how
// to import one; a DB of another schema wraps ErrSchema and says to
// update. When an update of a stale DB fails, the stale DB is opened and
// the returned warning says so (err is nil): scanning with day-old data
// beats not scanning; a missing DB that cannot be fetched is an error.
func OpenForScan(ctx context.Context, opts ScanOptions) (db *DB, warning string, err error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	maxAge := opts.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	path := filepath.Join(opts.Dir, FileName)
	db, err = Open(path)
	switch {
	case err == nil:
		age := now().Sub(db.Metadata().Built)
		if age <= maxAge || opts.SkipUpdate || opts.Offline {
			return db, "", nil
		}
		db.Close()
		uo := opts.Update
		uo.Dir = opts.Dir
		if _, uerr := Update(ctx, uo); uerr != nil {
			db, err = Open(path)
			if err != nil {
				return nil, "", err
			}
			return db, fmt.Sprintf("the advisory DB is %s old and updating it failed (%v); scanning with it", age.Round(time.Minute), uerr), nil
		}
		db, err = Open(path)
		return db, "", err
	case errors.Is(err, ErrSchema):
		if opts.SkipUpdate || opts.Offline {
			return nil, "", fmt.Errorf("%w; run `tollgate db update` (or `tollgate db import PATH…` offline) to rebuild it", err)
		}
	case errors.Is(err, ErrNoDB):
		if opts.SkipUpdate || opts.Offline {
			return nil, "", fmt.Errorf("%w in %s: run `tollgate db update` with network access, or `tollgate db import PATH…` with OSV zips copied from https://osv-vulnerabilities.storage.googleapis.com/<ECOSYSTEM>/all.zip, or drop --skip-db-update/--offline-scan", ErrNeedDB, opts.Dir)
		}
	default:
		if opts.SkipUpdate || opts.Offline {
			return nil, "", fmt.Errorf("%w; rebuild it with `tollgate db update` or `tollgate db import PATH…`", err)
		}
	}
	uo := opts.Update
	uo.Dir = opts.Dir
	if _, uerr := Update(ctx, uo); uerr != nil {
		return nil, "", fmt.Errorf("%w: fetching one failed: %w; with no network, run `tollgate db import PATH…` on OSV zips copied from https://osv-vulnerabilities.storage.googleapis.com/<ECOSYSTEM>/all.zip", ErrNeedDB, uerr)
	}
	db, err = Open(path)
	return db, "", err
}
