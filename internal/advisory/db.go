package advisory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout of the DB file this build reads and
// writes. A file of another schema is refused (ErrSchema), never misread.
const SchemaVersion = 2

// Sentinel errors; test with errors.Is.
var (
	// ErrSchema: the file was built by a tollgate with another layout.
	ErrSchema = errors.New("advisory DB has another schema version")
	// ErrNoDB: there is no DB file where one was expected.
	ErrNoDB = errors.New("no advisory DB")
	// ErrCorrupt: the file is not a tollgate advisory DB, or is damaged.
	ErrCorrupt = errors.New("advisory DB is damaged")
)

// bbolt buckets and keys.
var (
	bucketMeta  = []byte("meta")
	bucketPkg   = []byte("pkg")  // packageKey → encodeList of the package's advisories
	bucketAdv   = []byte("adv")  // ID → encodeAdvisory of the whole record
	bucketLink  = []byte("link") // linked ID → IDs of the records naming it in aliases/upstream
	keySchema   = []byte("schema")
	keyMetadata = []byte("metadata")
)

// Metadata describes a DB: when and from what it was built.
type Metadata struct {
	Schema int       `json:"schema"`
	Built  time.Time `json:"built"`
	// BuildID changes with every build; use it as a cache key for results
	// derived from the DB.
	BuildID string `json:"build_id"`
	// ContentID is a digest of the records the DB holds: two builds of
	// the same records (replicas that each ran `db update` on the same
	// export) have the same one. Results derived from the DB — scans —
	// are keyed by it, so replicas share them. Empty in DBs written
	// before it existed.
	ContentID string   `json:"content_id,omitempty"`
	Sources   []Source `json:"sources"`
	// Records is the number of distinct advisories; Withdrawn counts those
	// among them that are withdrawn (kept for Get, never returned by Lookup).
	Records   int `json:"records"`
	Withdrawn int `json:"withdrawn"`
	// Ecosystems counts, per ecosystem base name ("Debian", "Go"), the
	// advisories with at least one affected package in it.
	Ecosystems map[string]int `json:"ecosystems"`
	// Packages is the number of (ecosystem, package) keys.
	Packages int `json:"packages"`
}

// Source is one input a DB was built from.
type Source struct {
	// Name is the ecosystem of a downloaded all.zip ("PyPI"), or the path
	// given to Import.
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	// Retrieved is when the source was downloaded or read.
	Retrieved time.Time `json:"retrieved"`
	// ETag and LastModified are the server's validators, sent back on the
	// next update (conditional request).
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// SHA256 of the downloaded file, to reuse it unchanged after a 304.
	SHA256 string `json:"sha256,omitempty"`
	// Records read from the source; Skipped entries that were not OSV
	// records or could not be read at all; Problems found in records that
	// were kept (dropped events or ranges).
	Records  int `json:"records"`
	Skipped  int `json:"skipped"`
	Problems int `json:"problems"`
}

// DB is an open advisory DB. It is safe for concurrent use; Close it
// when done. The file it reads never changes under it: updates replace
// the file by rename.
type DB struct {
	bolt *bolt.DB
	path string
	meta Metadata
	// readers are open read transactions kept for reuse: the file never
	// changes while it is open (updates replace it by rename), so a read
	// transaction stays valid, and beginning one costs as much as a lookup.
	// A transaction is used by one goroutine at a time.
	readers chan *reader
}

// reader is a read transaction with its buckets looked up.
type reader struct {
	tx             *bolt.Tx
	pkg, adv, link *bolt.Bucket
	// pkgs is a cursor on pkg kept for Lookup: a cursor reuses its path
	// through the tree from one seek to the next, where Bucket.Get
	// allocates a new one each time.
	pkgs *bolt.Cursor
}

// maxReaders bounds the kept read transactions (more are begun and
// ended per call when more goroutines read at once).
const maxReaders = 16

func (db *DB) reader() (*reader, error) {
	select {
	case r := <-db.readers:
		return r, nil
	default:
	}
	tx, err := db.bolt.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	r := &reader{tx: tx, pkg: tx.Bucket(bucketPkg), adv: tx.Bucket(bucketAdv), link: tx.Bucket(bucketLink)}
	r.pkgs = r.pkg.Cursor()
	return r, nil
}

func (db *DB) release(r *reader) {
	select {
	case db.readers <- r:
	default:
		r.tx.Rollback()
	}
}

// view runs fn with a read transaction.
func (db *DB) view(fn func(r *reader) error) error {
	r, err := db.reader()
	if err != nil {
		return err
	}
	defer db.release(r)
	return fn(r)
}

// Open opens the DB file at path read-only. A missing file is ErrNoDB; a
// file of another schema ErrSchema; anything else that is not a DB
// ErrCorrupt.
func Open(path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNoDB, path)
		}
		return nil, fmt.Errorf("opening advisory DB: %w", err)
	}
	b, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	db := &DB{bolt: b, path: path, readers: make(chan *reader, maxReaders)}
	if err := b.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			return fmt.Errorf("%w: %s is not a tollgate advisory DB", ErrCorrupt, path)
		}
		schema, err := strconv.Atoi(string(m.Get(keySchema)))
		if err != nil {
			return fmt.Errorf("%w: %s has no schema version", ErrCorrupt, path)
		}
		if schema != SchemaVersion {
			return fmt.Errorf("%w: %s has schema %d, this tollgate reads schema %d", ErrSchema, path, schema, SchemaVersion)
		}
		if err := json.Unmarshal(m.Get(keyMetadata), &db.meta); err != nil {
			return fmt.Errorf("%w: %s: its metadata does not parse", ErrCorrupt, path)
		}
		for _, name := range [][]byte{bucketPkg, bucketAdv, bucketLink} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: %s lacks its %s index", ErrCorrupt, path, name)
			}
		}
		return nil
	}); err != nil {
		b.Close()
		return nil, err
	}
	return db, nil
}

// Close releases the file. No lookup may be running.
func (db *DB) Close() error {
	for {
		select {
		case r := <-db.readers:
			r.tx.Rollback()
		default:
			return db.bolt.Close()
		}
	}
}

// Path is the file the DB was opened from.
func (db *DB) Path() string { return db.path }

// Metadata describes the DB.
func (db *DB) Metadata() Metadata { return db.meta }

// Lookup returns the advisories that affect the package name of
// ecosystem (with its release, as OSV writes it: "Debian:12",
// "Alpine:v3.19", "PyPI", "Go"), in ID order. The name is normalised as
// the importer normalised it (NormalizeName). Each advisory's Affected
// holds only the entries of this package (a record can name a package
// more than once); Get returns the whole record. Withdrawn advisories are
// never returned. No advisories is a nil slice and no error.
func (db *DB) Lookup(ecosystem, name string) ([]Advisory, error) {
	var kb [96]byte
	key := appendPackageKey(kb[:0], ecosystem, name)
	r, err := db.reader()
	if err != nil {
		return nil, fmt.Errorf("reading advisories of %s %s: %w", ecosystem, name, err)
	}
	var out []Advisory
	if k, v := r.pkgs.Seek(key); v != nil && bytes.Equal(k, key) {
		out, err = decodeList(v)
	}
	db.release(r)
	if err != nil {
		return nil, fmt.Errorf("reading advisories of %s %s: %w", ecosystem, name, corrupt(err))
	}
	return out, nil
}

// Get returns the whole record with the given ID, withdrawn or not. ok
// is false when the DB has no such record.
func (db *DB) Get(id string) (a Advisory, ok bool, err error) {
	err = db.view(func(r *reader) error {
		v := r.adv.Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		a, err = decodeAdvisory(v)
		return err
	})
	if err != nil {
		return Advisory{}, false, fmt.Errorf("reading advisory %s: %w", id, corrupt(err))
	}
	return a, ok, nil
}

// Linked returns the IDs of the records that name id in their aliases or
// upstream (so a CVE finds the GHSA, GO and DSA records about it).
func (db *DB) Linked(id string) ([]string, error) {
	var out []string
	err := db.view(func(r *reader) error {
		v := r.link.Get([]byte(id))
		if v == nil {
			return nil
		}
		d := decoder{buf: append([]byte(nil), v...)}
		out = d.strs()
		return d.err
	})
	if err != nil {
		return nil, fmt.Errorf("reading links of %s: %w", id, corrupt(err))
	}
	return out, nil
}

func corrupt(err error) error {
	if errors.Is(err, errCorrupt) {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return err
}

// ResolveSeverity returns the ratings of adv for the package name of
// ecosystem, most specific first: the package's own ratings in adv
// (affected[].severity, Debian urgency, Ubuntu priority), then adv's
// top-level ones. When adv has none at all (Go and DSA/DLA records
// carry none), the ratings of its linked records are returned instead,
// each with Record set to the record it came from: the records named in
// its aliases, upstream and related, and the records that name the same
// IDs (one level deep). Within linked records, the per-package ratings
// for the same package come first. Pass the result to Preferred to pick
// one.
func (db *DB) ResolveSeverity(adv Advisory, ecosystem, name string) ([]Severity, error) {
	own := ratingsFor(&adv, ecosystem, name)
	if len(own) > 0 {
		return own, nil
	}
	seen := map[string]bool{adv.ID: true}
	var ids []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, list := range [][]string{adv.Upstream, adv.Aliases, adv.Related} {
		for _, id := range list {
			add(id)
		}
	}
	direct := slices.Clone(ids)
	for _, id := range append([]string{adv.ID}, direct...) {
		linked, err := db.Linked(id)
		if err != nil {
			return nil, err
		}
		for _, l := range linked {
			add(l)
		}
	}
	var pkgRatings, recRatings []Severity
	for _, id := range ids {
		rec, ok, err := db.Get(id)
		if err != nil {
			return nil, err
		}
		if !ok || rec.IsWithdrawn() {
			continue
		}
		pkg, top := splitRatings(&rec, ecosystem, name)
		pkgRatings = append(pkgRatings, pkg...)
		recRatings = append(recRatings, top...)
	}
	return append(pkgRatings, recRatings...), nil
}

// ratingsFor returns adv's ratings for one package, then its top-level
// ratings, each with Record set.
func ratingsFor(adv *Advisory, ecosystem, name string) []Severity {
	pkg, top := splitRatings(adv, ecosystem, name)
	return append(pkg, top...)
}

func splitRatings(adv *Advisory, ecosystem, name string) (pkg, top []Severity) {
	key := string(packageKey(ecosystem, name))
	for i := range adv.Affected {
		af := &adv.Affected[i]
		if string(packageKey(af.Ecosystem, af.Name)) != key {
			continue
		}
		for _, s := range af.Severity {
			s.Record = adv.ID
			pkg = append(pkg, s)
		}
	}
	for _, s := range adv.Severity {
		s.Record = adv.ID
		top = append(top, s)
	}
	return pkg, top
}
