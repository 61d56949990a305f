package advisory

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tollgate-dev/tollgate/internal/version"
)

// Limits on what an input may make the builder read. OSV records are a
// few KB (the largest in the Go and PyPI exports are under 200 KB); the
// largest real export, Debian's all.zip, expands to a few hundred MB.
const (
	maxRecordSize = 16 << 20 // one JSON document
	maxZipTotal   = 4 << 30  // all entries of one zip, uncompressed
)

// Builder collects OSV records from inputs and writes a DB file. Records
// are deduplicated by ID: of two with one ID, the one modified last wins.
// Use it from one goroutine.
type Builder struct {
	// Report, when set, receives every problem as it is found.
	Report func(Problem)
	// Now is the clock for Metadata.Built and Source.Retrieved (time.Now
	// when nil).
	Now func() time.Time

	records  map[string]*built
	sources  []Source
	problems int
}

// built is one record, encoded: whole, and per package key.
type built struct {
	id        string
	modified  time.Time
	withdrawn bool
	whole     []byte
	links     []string // aliases + upstream
	pkgs      map[string][]byte
	ecos      []string // ecosystem base names it affects
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder { return &Builder{records: map[string]*built{}} }

func (b *Builder) now() time.Time {
	if b.Now != nil {
		return b.Now().UTC()
	}
	return time.Now().UTC()
}

// Problems is the number of problems found so far.
func (b *Builder) Problems() int { return b.problems }

// Records is the number of distinct records collected so far.
func (b *Builder) Records() int { return len(b.records) }

// AddRecord adds one JSON document read from source. A document that is
// not an OSV record returns an error wrapping ErrNotOSV; problems in a
// record are reported and its valid parts kept.
func (b *Builder) AddRecord(source string, data []byte) error {
	a, problems, err := ParseOSV(source, data)
	for _, pr := range problems {
		b.problems++
		if b.Report != nil {
			b.Report(pr)
		}
	}
	if err != nil {
		return err
	}
	b.add(&a)
	return nil
}

// ErrNotOSV marks an input that is not an OSV record (counted as
// skipped).
var ErrNotOSV = errNotOSV

func (b *Builder) add(a *Advisory) { b.commit(prepare(a)) }

// prepare encodes a record for the DB. It is pure, so zip entries are
// prepared in parallel.
func prepare(a *Advisory) *built {
	r := &built{id: a.ID, modified: a.Modified, withdrawn: a.IsWithdrawn(), whole: encodeAdvisory(a, a.Affected)}
	r.links = append(append(r.links, a.Aliases...), a.Upstream...)
	if r.withdrawn {
		return r
	}
	groups := map[string][]Affected{}
	var order []string
	for _, af := range a.Affected {
		k := string(packageKey(af.Ecosystem, af.Name))
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], af)
		if base := version.Base(af.Ecosystem); !slices.Contains(r.ecos, base) {
			r.ecos = append(r.ecos, base)
		}
	}
	r.pkgs = make(map[string][]byte, len(groups))
	for _, k := range order {
		r.pkgs[k] = encodeAdvisory(a, groups[k])
	}
	return r
}

// commit keeps r unless a record with its ID modified later (or at the
// same time: the first one read wins) is already kept.
func (b *Builder) commit(r *built) {
	if old, ok := b.records[r.id]; ok && !r.modified.After(old.modified) {
		return
	}
	b.records[r.id] = r
}

// AddPath adds a zip file, a JSON file, or every zip and JSON file under
// a directory. Files that are not OSV records are skipped and counted in
// the returned Source.
func (b *Builder) AddPath(path string) (Source, error) {
	src := Source{Name: path, Retrieved: b.now()}
	info, err := os.Stat(path)
	if err != nil {
		return src, fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
	}
	problems := b.problems
	if info.IsDir() {
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, errors.Unwrap(err))
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			return b.addFile(p, &src)
		})
	} else {
		err = b.addFile(path, &src)
	}
	src.Problems = b.problems - problems
	if err != nil {
		return src, err
	}
	b.sources = append(b.sources, src)
	return src, nil
}

// addFile adds one file found by AddPath.
func (b *Builder) addFile(path string, src *Source) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".zip":
		n, skipped, err := b.addZipPath(path, path)
		src.Records += n
		src.Skipped += skipped
		return err
	case ".json":
		data, err := readLimited(path)
		if err != nil {
			return err
		}
		if err := b.AddRecord(path, data); err != nil {
			src.Skipped++
			return nil
		}
		src.Records++
		return nil
	}
	src.Skipped++
	return nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxRecordSize {
		return nil, fmt.Errorf("reading %s: larger than %d MiB, not an OSV record", path, maxRecordSize>>20)
	}
	return data, nil
}

// addZipPath adds the zip file at path, naming it name in problems.
func (b *Builder) addZipPath(name, path string) (records, skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return b.addZip(name, f, fi.Size())
}

// ErrBadZip marks a zip that cannot be read whole: truncated, not a zip,
// a CRC mismatch, an entry too large. The DB being built is not written.
var ErrBadZip = errors.New("not a readable zip")

// addZip adds every .json entry of a zip; other entries are skipped.
// Each entry is read to its end, so archive/zip checks its CRC-32.
func (b *Builder) addZip(name string, r io.ReaderAt, size int64) (records, skipped int, err error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %s: %v", ErrBadZip, name, err)
	}
	var files []*zip.File
	var total uint64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if !strings.EqualFold(filepath.Ext(f.Name), ".json") {
			skipped++
			continue
		}
		if f.UncompressedSize64 > maxRecordSize {
			return records, skipped, fmt.Errorf("%w: %s: entry %s is larger than %d MiB", ErrBadZip, name, f.Name, maxRecordSize>>20)
		}
		total += f.UncompressedSize64
		if total > maxZipTotal {
			return records, skipped, fmt.Errorf("%w: %s expands to more than %d GiB", ErrBadZip, name, maxZipTotal>>30)
		}
		files = append(files, f)
	}
	// Entries are inflated, parsed and encoded by one worker per CPU, a
	// batch at a time; results are kept in entry order, so the build is
	// the same however the work was split.
	workers := runtime.GOMAXPROCS(0)
	const batch = 512
	results := make([]entryResult, batch)
	for startAt := 0; startAt < len(files); startAt += batch {
		chunk := files[startAt:min(startAt+batch, len(files))]
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range min(workers, len(chunk)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf bytes.Buffer
				for {
					i := int(next.Add(1) - 1)
					if i >= len(chunk) {
						return
					}
					results[i] = readEntry(name, chunk[i], &buf)
				}
			}()
		}
		wg.Wait()
		for i := range chunk {
			res := &results[i]
			if res.zipErr != nil {
				return records, skipped, res.zipErr
			}
			for _, pr := range res.problems {
				b.problems++
				if b.Report != nil {
					b.Report(pr)
				}
			}
			if res.rec == nil {
				skipped++
			} else {
				b.commit(res.rec)
				records++
			}
			*res = entryResult{}
		}
	}
	return records, skipped, nil
}

// entryResult is what a worker made of one zip entry.
type entryResult struct {
	rec      *built // nil: not an OSV record
	problems []Problem
	zipErr   error // the zip itself is bad
}

func readEntry(name string, f *zip.File, buf *bytes.Buffer) entryResult {
	rc, err := f.Open()
	if err != nil {
		return entryResult{zipErr: fmt.Errorf("%w: %s: entry %s: %v", ErrBadZip, name, f.Name, err)}
	}
	buf.Reset()
	_, err = io.Copy(buf, io.LimitReader(rc, maxRecordSize+1))
	rc.Close()
	if err != nil {
		return entryResult{zipErr: fmt.Errorf("%w: %s: entry %s: %v", ErrBadZip, name, f.Name, err)}
	}
	if buf.Len() > maxRecordSize {
		return entryResult{zipErr: fmt.Errorf("%w: %s: entry %s is larger than it says", ErrBadZip, name, f.Name)}
	}
	a, problems, err := ParseOSV(name+"!"+f.Name, buf.Bytes())
	if err != nil {
		return entryResult{problems: problems}
	}
	return entryResult{rec: prepare(&a), problems: problems}
}

// AddZip adds the records of a zip read from r (a downloaded all.zip)
// and records src (with its Records and Skipped filled in) among the
// DB's sources. A zip that cannot be read whole is an error wrapping
// ErrBadZip; the caller should then not Write.
func (b *Builder) AddZip(src Source, r io.ReaderAt, size int64) (Source, error) {
	problems := b.problems
	n, skipped, err := b.addZip(src.Name, r, size)
	src.Records, src.Skipped, src.Problems = n, skipped, b.problems-problems
	if err != nil {
		return src, err
	}
	b.sources = append(b.sources, src)
	return src, nil
}

// Write writes the DB to path atomically: a temporary file in the same
// directory, synced, then renamed over path. A reader that has the old
// file open keeps reading it whole.
func (b *Builder) Write(path string) (Metadata, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Metadata{}, fmt.Errorf("creating %s: %w", dir, errors.Unwrap(err))
	}
	tmp, err := os.CreateTemp(dir, ".tollgate-db-*.tmp")
	if err != nil {
		return Metadata{}, fmt.Errorf("creating the new DB in %s: %w", dir, errors.Unwrap(err))
	}
	tmpPath := tmp.Name()
	tmp.Close()
	keep := false
	defer func() {
		if !keep {
			os.Remove(tmpPath)
		}
	}()
	meta, err := b.writeFile(tmpPath)
	if err != nil {
		return Metadata{}, err
	}
	if err := os.Chmod(tmpPath, 0o644); err != nil {
		return Metadata{}, fmt.Errorf("writing the new DB %s: %w", tmpPath, errors.Unwrap(err))
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return Metadata{}, fmt.Errorf("replacing %s: %w", path, errors.Unwrap(err))
	}
	keep = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return meta, nil
}

// contentID digests every record as stored, in ID order.
func (b *Builder) contentID() string {
	ids := make([]string, 0, len(b.records))
	for id := range b.records {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	fmt.Fprintf(h, "schema %d\n", SchemaVersion)
	for _, id := range ids {
		r := b.records[id]
		fmt.Fprintf(h, "%s\x00%d\x00", id, len(r.whole))
		h.Write(r.whole)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func (b *Builder) metadata() Metadata {
	id := make([]byte, 8)
	rand.Read(id)
	m := Metadata{
		Schema:     SchemaVersion,
		Built:      b.now(),
		Sources:    slices.Clone(b.sources),
		Records:    len(b.records),
		Ecosystems: map[string]int{},
	}
	m.BuildID = m.Built.Format("20060102T150405Z") + "-" + hex.EncodeToString(id)
	m.ContentID = b.contentID()
	for _, r := range b.records {
		if r.withdrawn {
			m.Withdrawn++
		}
		for _, e := range r.ecos {
			m.Ecosystems[e]++
		}
	}
	return m
}

func (b *Builder) writeFile(path string) (Metadata, error) {
	meta := b.metadata()
	// Map the whole file-to-be at once: bbolt remaps (and copies every
	// dirty node) each time a write outgrows the mapping, which otherwise
	// costs a third of the build.
	var size int
	for _, r := range b.records {
		size += len(r.whole) + 64
		for _, enc := range r.pkgs {
			size += len(enc) + 64
		}
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{NoSync: true, NoFreelistSync: true, Timeout: time.Second, InitialMmapSize: 2*size + 16<<20})
	if err != nil {
		return Metadata{}, fmt.Errorf("creating the new DB %s: %v", path, err)
	}
	defer db.Close()

	ids := make([]string, 0, len(b.records))
	for id := range b.records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	pkgs := map[string][][]byte{} // key → encoded advisories, in ID order
	links := map[string][]string{}
	for _, id := range ids {
		r := b.records[id]
		for k, enc := range r.pkgs {
			pkgs[k] = append(pkgs[k], enc)
		}
		for _, l := range r.links {
			if l != id && !slices.Contains(links[l], id) {
				links[l] = append(links[l], id)
			}
		}
	}
	meta.Packages = len(pkgs)

	err = db.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := mb.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		mj, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		if err := mb.Put(keyMetadata, mj); err != nil {
			return err
		}
		ab, err := tx.CreateBucket(bucketAdv)
		if err != nil {
			return err
		}
		ab.FillPercent = 1 // keys go in sorted: pack the pages full
		for _, id := range ids {
			if err := ab.Put([]byte(id), b.records[id].whole); err != nil {
				return err
			}
		}
		if err := putSorted(tx, bucketPkg, pkgs, encodeList); err != nil {
			return err
		}
		return putSorted(tx, bucketLink, links, func(ss []string) []byte {
			var e encoder
			e.strs(ss)
			return e.b
		})
	})
	if err != nil {
		return Metadata{}, fmt.Errorf("writing the new DB %s: %v", path, err)
	}
	if err := db.Sync(); err != nil {
		return Metadata{}, fmt.Errorf("writing the new DB %s: %v", path, err)
	}
	if err := db.Close(); err != nil {
		return Metadata{}, fmt.Errorf("writing the new DB %s: %v", path, err)
	}
	return meta, nil
}

func putSorted[V any](tx *bolt.Tx, name []byte, m map[string]V, enc func(V) []byte) error {
	bk, err := tx.CreateBucket(name)
	if err != nil {
		return err
	}
	bk.FillPercent = 1
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := bk.Put([]byte(k), enc(m[k])); err != nil {
			return err
		}
	}
	return nil
}
