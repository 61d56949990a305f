package inventory

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// layerCache keeps what the analyzers found in each layer, one file per
// layer under <dir>/layers/. A file is written to a temporary name and
// renamed into place, so readers (other tollgate processes included) see
// either no entry or a whole one, and no lock is needed: two processes
// analysing the same layer at once both write the same content and the
// last rename wins. Each file starts with a header line holding a format
// version and the SHA-256 of the rest; an entry that fails the check
// (truncated by a full disk, edited, written by another version) is
// treated as missing and rewritten.
type layerCache struct {
	dir string
}

const cacheMagic = "tollgate-layer-cache/3 "

// layerResult is what one layer contributed. It is what the cache stores.
type layerResult struct {
	Key       string       `json:"key"`
	Files     []fileResult `json:"files,omitempty"`
	Whiteouts []string     `json:"whiteouts,omitempty"`
	Opaque    []string     `json:"opaque,omitempty"`
	// Removed are paths analyzers would read that this layer replaced by
	// something unreadable to them (a symlink, a file over a size limit).
	// Like whiteouts they hide older versions of those paths.
	Removed []string `json:"removed,omitempty"`
	// Shadowed are paths where this layer has a directory: a file of the
	// same path in lower layers is gone, what lies below it is not.
	Shadowed []string `json:"shadowed,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func newLayerCache(dir string) (*layerCache, error) {
	d := filepath.Join(dir, "layers")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("creating cache directory: %w", err)
	}
	return &layerCache{dir: d}, nil
}

// cacheKey names the cache entry of a layer analysed by an analyzer set.
func cacheKey(diffID, fingerprint string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", cacheMagic, diffID, fingerprint)
	return hex.EncodeToString(h.Sum(nil))
}

func (c *layerCache) path(key string) string {
	return filepath.Join(c.dir, key+".json")
}

// get returns the entry for key. A missing or damaged entry is a miss.
func (c *layerCache) get(key string) (*layerResult, bool) {
	body, ok := readChecked(c.path(key), cacheMagic)
	if !ok {
		return nil, false
	}
	var r layerResult
	if err := json.Unmarshal(body, &r); err != nil || r.Key != key {
		return nil, false
	}
	return &r, true
}

// put stores the entry for key atomically.
func (c *layerCache) put(key string, r *layerResult) error {
	r.Key = key
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writeChecked(c.dir, c.path(key), cacheMagic, body)
}

// readChecked returns the body of a cache file whose header line is magic
// and the SHA-256 of the body; anything else is a miss.
func readChecked(path, magic string) ([]byte, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	header, body, ok := bytes.Cut(b, []byte("\n"))
	if !ok || !bytes.HasPrefix(header, []byte(magic)) {
		return nil, false
	}
	sum := sha256.Sum256(body)
	if string(header[len(magic):]) != hex.EncodeToString(sum[:]) {
		return nil, false
	}
	return body, true
}

// writeChecked writes body with its header line atomically (a temporary
// file in dir renamed into place).
func writeChecked(dir, path, magic string, body []byte) error {
	sum := sha256.Sum256(body)
	var buf bytes.Buffer
	buf.Grow(len(magic) + 65 + len(body))
	buf.WriteString(magic)
	buf.WriteString(hex.EncodeToString(sum[:]))
	buf.WriteByte('\n')
	buf.Write(body)
	if err := renameio.WriteFile(path, buf.Bytes(), 0o644, renameio.WithTempDir(dir)); err != nil {
		return fmt.Errorf("writing cache entry: %w", err)
	}
	return nil
}

// EntryStore keeps other packages' per-layer results in the cache
// directory the same way the layer cache keeps the inventory's: one file
// per key under <dir>/<name>/, written atomically, with a header line of
// a format tag and the SHA-256 of the body, so a truncated, edited or
// foreign file is a miss. Keys must be file-name safe (hex digests);
// what goes into a key (the layer's diff ID, a fingerprint of the rules
// that made the result) is the caller's business.
type EntryStore struct {
	dir, magic string
}

// OpenEntryStore opens (creating it) the store <cacheDir>/<name>; format
// tags its files (a store's files written with another tag are misses).
func OpenEntryStore(cacheDir, name, format string) (*EntryStore, error) {
	d := filepath.Join(cacheDir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("creating cache directory: %w", err)
	}
	return &EntryStore{dir: d, magic: format + " "}, nil
}

// Get returns the body stored for key; a missing or damaged entry is a
// miss.
func (s *EntryStore) Get(key string) ([]byte, bool) {
	return readChecked(filepath.Join(s.dir, key), s.magic)
}

// Put stores body for key atomically.
func (s *EntryStore) Put(key string, body []byte) error {
	return writeChecked(s.dir, filepath.Join(s.dir, key), s.magic, body)
}

// errNoCache is returned by DefaultCacheDir when the platform has no user
// cache directory.
var errNoCache = errors.New("no user cache directory")

// DefaultCacheDir is the cache directory used unless one is given:
// $XDG_CACHE_HOME/tollgate or ~/.cache/tollgate on Linux.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory: %w", err)
	}
	if d == "" {
		return "", errNoCache
	}
	return filepath.Join(d, "tollgate"), nil
}
