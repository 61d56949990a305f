package imagecheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// The checks read each layer into facts that depend on that layer alone
// (its entries, the content of the files the checks look into, the
// secrets in its files), then apply the facts layer on layer to the
// merged view the checks judge. Facts are what the cache keeps, so a warm
// scan applies the same facts a cold one read: thresholds, skipped checks
// and the other layers are not part of them and are always applied anew.

// factsVersion changes whenever what a fact records changes (the files
// read for their content, how package databases are read, the fields);
// it is part of every cache key.
const factsVersion = 1

// factsFormat tags the cache's files.
const factsFormat = "tollgate-check-facts/1"

// Cache stores facts between runs; inventory.EntryStore is one.
type Cache interface {
	Get(key string) ([]byte, bool)
	Put(key string, body []byte) error
}

// OpenCache opens the facts cache in a cache directory (the one the
// inventory's layer cache uses).
func OpenCache(cacheDir string) (Cache, error) {
	return inventory.OpenEntryStore(cacheDir, "checks", factsFormat)
}

// scanState says what the secret scanner made of a file.
type scanState int8

const (
	notScanned scanState = iota
	scanned
	skippedBinary
	skippedLarge
)

// walkWarning is the type of a fact that is not an entry but a problem of
// the layer's tar that Check's own walk met (kept in the order it came).
const walkWarning image.EntryType = -1

// fact is one entry of a layer as the checks need it.
type fact struct {
	Path string          `json:"p"`
	Type image.EntryType `json:"t"`
	Mode fs.FileMode     `json:"m,omitempty"`
	Size int64           `json:"s,omitempty"`
	// Wanted: a file a check reads; Data is its content (none for rpm
	// databases, whose package names are in Names).
	Wanted bool     `json:"w,omitempty"`
	Data   []byte   `json:"d,omitempty"`
	Names  []string `json:"n,omitempty"`
	// Installed is the installed size of an rpm database's packages.
	Installed int64 `json:"i,omitempty"`
	// Scan is what the secret scanner made of the file; Secrets what it
	// found.
	Scan    scanState        `json:"c,omitempty"`
	Secrets []secret.Finding `json:"x,omitempty"`
	// Warning says why an rpm database was not read (the layer's name is
	// added when the fact is applied: facts do not depend on where a
	// layer is in an image).
	Warning string `json:"e,omitempty"`
}

// layerFacts are the facts of one layer, in the layer's order.
type layerFacts struct {
	Key     string `json:"key"`
	Entries []fact `json:"entries"`
}

// factsKey names the cache entry of a layer read with options o.
func factsKey(diffID string, o *Options) string {
	secrets := "none"
	if o.Secrets != nil {
		secrets = o.Secrets.Fingerprint()
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\nfacts %d\nlayer %s\nsecrets %s\nwanted %d rpm %d\n", factsFormat, factsVersion, diffID, secrets, maxWantedFile, maxRPMDatabase)
	return hex.EncodeToString(h.Sum(nil))
}

// loadFacts returns the cached facts of a layer, nil on a miss.
func loadFacts(c Cache, key string) *layerFacts {
	b, ok := c.Get(key)
	if !ok {
		return nil
	}
	var lf layerFacts
	if json.Unmarshal(b, &lf) != nil || lf.Key != key {
		return nil
	}
	return &lf
}

func storeFacts(c Cache, lf *layerFacts) error {
	b, err := json.Marshal(lf)
	if err != nil {
		return err
	}
	return c.Put(lf.Key, b)
}

// readEntry reads the facts of one entry.
func (r *run) readEntry(e *image.Entry, content io.Reader) (fact, error) {
	f := fact{Path: e.Path, Type: e.Type, Mode: e.Mode, Size: e.Size}
	if e.Type != image.TypeFile {
		return f, nil
	}
	if inventory.IsRPMDatabase(e.Path) && e.Size > maxRPMDatabase {
		f.Warning = "larger than " + bytesText(maxRPMDatabase)
	}
	if inventory.IsRPMDatabase(e.Path) && e.Size <= maxRPMDatabase {
		head := make([]byte, min(e.Size, 8000))
		if _, err := io.ReadFull(content, head); err != nil {
			return f, fmt.Errorf("reading %s: %w", e.Path, err)
		}
		if secret.IsBinary(head) {
			return r.readRPMDatabase(f, head, content)
		}
		content = io.MultiReader(bytes.NewReader(head), content)
	}
	err := r.readFile(&f, content)
	return f, err
}

// readRPMDatabase lists the packages of an rpm database: the file is
// spilled to a temporary file, which the rpm reader needs. A database that
// does not read is left out with a warning, since TG202 cannot see its
// packages.
func (r *run) readRPMDatabase(f fact, head []byte, rest io.Reader) (fact, error) {
	if r.o.Secrets != nil {
		f.Scan = skippedBinary
	}
	tmp, err := os.CreateTemp("", "tollgate-rpmdb-*")
	if err != nil {
		return f, fmt.Errorf("spilling %s: %w", f.Path, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := tmp.Write(head); err != nil {
		return f, fmt.Errorf("spilling %s: %w", f.Path, err)
	}
	if _, err := io.Copy(tmp, rest); err != nil {
		return f, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return f, fmt.Errorf("spilling %s: %w", f.Path, err)
	}
	pkgs, err := inventory.RPMPackages(tmp.Name())
	if err != nil {
		// The reader's error names the temporary file and the library's
		// internals; the path and layer say enough.
		f.Warning = "it does not read as a Berkeley DB, NDB or SQLite rpm database"
		return f, nil
	}
	f.Wanted = true
	for _, p := range pkgs {
		f.Names = append(f.Names, p.Name)
		f.Installed += p.Size
	}
	return f, nil
}

// readFile reads a regular file's content when a check or the secret
// scanner needs it.
func (r *run) readFile(f *fact, content io.Reader) error {
	want := wantsContent(f.Path)
	scan := r.o.Secrets != nil
	if !want && !scan {
		return nil
	}
	limit := int64(0)
	if scan {
		limit = r.o.Secrets.MaxFileSize()
	}
	if want {
		limit = max(limit, maxWantedFile)
	}
	if f.Size > limit {
		if scan {
			f.Scan = skippedLarge
		}
		return nil
	}
	// A binary file is known from its first bytes; only the checks'
	// files are read whole whatever they hold. The checks' files are
	// kept; the others are read into a buffer used again for the next.
	head := r.head[:min(f.Size, int64(len(r.head)))]
	if _, err := io.ReadFull(content, head); err != nil {
		return fmt.Errorf("reading %s: %w", f.Path, err)
	}
	if !want && secret.IsBinary(head) {
		f.Scan = skippedBinary
		return nil
	}
	var data []byte
	if want {
		data = make([]byte, f.Size)
	} else {
		if int64(cap(r.buf)) < f.Size {
			r.buf = make([]byte, f.Size)
		}
		data = r.buf[:f.Size]
	}
	copy(data, head)
	if _, err := io.ReadFull(content, data[len(head):]); err != nil {
		return fmt.Errorf("reading %s: %w", f.Path, err)
	}
	if want {
		f.Wanted, f.Data = true, data
		if f.Path == "etc/shadow" || f.Path == "etc/master.passwd" {
			f.Data = passwordStates(data)
		}
	}
	if !scan {
		return nil
	}
	switch {
	case int64(len(data)) > r.o.Secrets.MaxFileSize():
		f.Scan = skippedLarge
	case secret.IsBinary(data):
		f.Scan = skippedBinary
	default:
		f.Scan = scanned
		f.Secrets = r.o.Secrets.ScanBytes(f.Path, data)
	}
	return nil
}

// apply adds one entry's facts, of layer r.cur, to the merged view.
func (r *run) apply(f *fact) error {
	switch f.Type {
	case walkWarning:
		r.walkWarning(f.Warning)
		return nil
	case image.TypeWhiteout:
		r.remove(f.Path)
		return nil
	case image.TypeOpaque:
		for c := range r.kids[f.Path] { // "." is the root's entry too
			r.remove(c)
		}
		return nil
	}
	if old, ok := r.nodes[f.Path]; ok && old.layer < r.cur {
		if old.typ == image.TypeDir && f.Type == image.TypeDir {
			// A directory entry again: only its mode changes.
		} else {
			r.remove(f.Path)
		}
	}
	if _, ok := r.nodes[f.Path]; !ok {
		if len(r.nodes) >= maxPaths {
			return fmt.Errorf("more than %d paths in the image", maxPaths)
		}
		r.link(f.Path)
	}
	r.nodes[f.Path] = &node{layer: r.cur, typ: f.Type, mode: f.Mode, size: f.Size}
	if f.Type != image.TypeFile {
		delete(r.wanted, f.Path)
		return nil
	}
	r.noteCache(f.Path, f.Size)
	switch f.Scan {
	case scanned:
		r.stats.Files++
		r.stats.Bytes += f.Size
	case skippedBinary:
		r.stats.SkippedBinary++
	case skippedLarge:
		r.stats.SkippedLarge++
	}
	if f.Warning != "" {
		r.warnings = append(r.warnings, fmt.Sprintf("the rpm database /%s in %s is not read (%s): TG202 does not see its packages", f.Path, r.layerName(r.cur), f.Warning))
	}
	if f.Wanted {
		r.wanted[f.Path] = &wantedFile{layer: r.cur, data: f.Data, installed: f.Installed}
		names := packageNames(f.Path, f.Data)
		if inventory.IsRPMDatabase(f.Path) {
			names = map[string]bool{}
			for _, n := range f.Names {
				names[n] = true
			}
		}
		if names != nil {
			r.dbVersions[f.Path] = append(r.dbVersions[f.Path], dbVersion{layer: r.cur, names: names})
		}
	} else {
		delete(r.wanted, f.Path)
	}
	for _, s := range f.Secrets {
		r.secretsAt[f.Path] = append(r.secretsAt[f.Path], len(r.secrets))
		r.secrets = append(r.secrets, liveSecret{f: s, layer: r.cur, path: f.Path})
	}
	return nil
}

// passwordStates keeps of a shadow file what DKL-LI-0001 judges, whether
// each account's password is empty: "name:" or "name:*" lines. Facts are
// cached, and the cache should not hold password hashes.
func passwordStates(data []byte) []byte {
	var b bytes.Buffer
	for _, fields := range colonLines(data, 2) {
		b.WriteString(fields[0])
		b.WriteByte(':')
		if fields[1] != "" {
			b.WriteByte('*')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
