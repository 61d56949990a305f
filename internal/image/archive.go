package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
)

// Limits on image archives. An image tar holds a few files per layer, so
// these are far above any real archive and only stop hostile ones from
// making the index (which lives in memory) large.
const (
	maxArchiveEntries = 200_000
	maxLinkHops       = 32
	maxMetadataSize   = 16 << 20 // manifest.json, index.json, image configs
)

// tarIndex gives random access to the regular files of a tar archive on
// disk: each file's data is a section of the archive, found by one pass
// over the headers (archive/tar seeks past the data).
type tarIndex struct {
	f       *os.File
	entries map[string]tarEntry
}

// typeEscapingLink marks a link whose target lies outside the archive.
const typeEscapingLink = 'X'

type tarEntry struct {
	typ      byte
	linkname string // for links: the target, relative to the archive root
	offset   int64
	size     int64
}

func indexTar(f *os.File) (*tarIndex, error) {
	idx := &tarIndex{f: f, entries: map[string]tarEntry{}}
	tr := tar.NewReader(f)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			off, _ := f.Seek(0, io.SeekCurrent)
			return nil, tarError(err, off) // archive/tar's words never reach the user
		}
		if n >= maxArchiveEntries {
			return nil, fmt.Errorf("reading archive: more than %d entries, not an image archive", maxArchiveEntries)
		}
		name, ok := SafePath(hdr.Name)
		if !ok {
			continue
		}
		e := tarEntry{typ: hdr.Typeflag, size: hdr.Size}
		switch hdr.Typeflag {
		case tar.TypeReg:
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("reading archive: %w", err)
			}
			e.offset = off
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir(name), target)
			}
			t, ok := SafePath(target)
			if !ok {
				e.typ = typeEscapingLink // never followed
				e.linkname = hdr.Linkname
				break
			}
			e.linkname = t
		case tar.TypeLink:
			t, ok := SafePath(hdr.Linkname)
			if !ok {
				e.typ = typeEscapingLink
				e.linkname = hdr.Linkname
				break
			}
			e.linkname = t
		default:
			continue
		}
		idx.entries[name] = e // a later entry of the same name wins, as when extracting
	}
	return idx, nil
}

// open returns the content of the regular file name, following links
// inside the archive only.
func (t *tarIndex) open(name string) (*io.SectionReader, error) {
	p, ok := SafePath(name)
	if !ok {
		return nil, fmt.Errorf("%q: not a path inside the archive", name)
	}
	for hops := 0; ; hops++ {
		e, ok := t.entries[p]
		if !ok {
			if hops > 0 {
				return nil, fmt.Errorf("%s: a link to %s, which the archive does not hold: %w", name, p, fs.ErrNotExist)
			}
			return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		if e.typ == typeEscapingLink {
			return nil, fmt.Errorf("%s: a link to %q, outside the archive: not followed", name, e.linkname)
		}
		if e.typ == tar.TypeSymlink || e.typ == tar.TypeLink {
			if hops >= maxLinkHops {
				return nil, fmt.Errorf("%s: too many levels of links", name)
			}
			p = e.linkname
			continue
		}
		return io.NewSectionReader(t.f, e.offset, e.size), nil
	}
}

func (t *tarIndex) has(name string) bool {
	_, ok := t.entries[name]
	return ok
}

func (t *tarIndex) readSmall(name string) ([]byte, error) {
	sr, err := t.open(name)
	if err != nil {
		return nil, err
	}
	return readLimited(sr, maxMetadataSize, name)
}

func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", what, limit)
	}
	return b, nil
}

// maxArchiveRatio bounds how much a gzip-compressed image archive may
// expand when it is spilled to disk. Image tars compress about 2-4:1 (their
// layers are often compressed already) and text-only ones about 10:1; a gzip
// bomb expands about 1000:1. minSpillLimit keeps small archives workable.
const (
	maxArchiveRatio = 100
	minSpillLimit   = 1 << 30
)

// spillLimit is the most bytes a compressed archive f may decompress to:
// maxArchiveRatio times its size, and at least minLimit.
func spillLimit(f *os.File, minLimit int64) int64 {
	fi, err := f.Stat()
	if err != nil {
		return minLimit
	}
	return max(fi.Size()*maxArchiveRatio, minLimit)
}

// openArchiveFile opens an image archive. A gzip-compressed archive
// (`docker save | gzip`) is decompressed into a spill file under tmpDir
// first, because reading layers needs random access.
func openArchiveFile(p, tmpDir string, minLimit int64) (*tarIndex, func() error, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	closers := []func() error{f.Close}
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	head := make([]byte, 2)
	if _, err := io.ReadFull(f, head); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			closeAll()
			return nil, nil, err
		}
		spill, err := os.CreateTemp(tmpDir, "tollgate-archive-*.tar")
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("decompressing %s: %w", p, err)
		}
		closers = append(closers, func() error { return os.Remove(spill.Name()) }, spill.Close)
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("decompressing %s: %w", p, err)
		}
		limit := spillLimit(f, minLimit)
		n, err := io.Copy(spill, io.LimitReader(zr, limit+1))
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("decompressing %s: %w", p, err)
		}
		if n > limit {
			closeAll()
			return nil, nil, fmt.Errorf("decompressing %s: more than %d bytes (%dx the compressed size): refusing what looks like a gzip bomb", p, limit, maxArchiveRatio)
		}
		f = spill
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		closeAll()
		return nil, nil, err
	}
	idx, err := indexTar(f)
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("%s: not a readable image archive (tar): %w", p, err)
	}
	return idx, closeAll, nil
}

// dockerManifest is one element of a `docker save` manifest.json.
type dockerManifest struct {
	Config       string
	RepoTags     []string
	Layers       []string
	LayerSources map[string]v1.Descriptor `json:",omitempty"`
}

// OpenArchive opens a `docker save` tar (classic layout, or the OCI-in-tar
// layout Docker 25+ writes, which carries manifest.json too) or, when the
// tar has no manifest.json, an OCI archive. tmpDir receives spill files.
func OpenArchive(p string, o Options) (*Image, error) {
	idx, closeFn, err := openArchiveFile(p, o.TempDir, minSpillLimit)
	if err != nil {
		return nil, err
	}
	var img *Image
	switch {
	case idx.has("manifest.json"):
		if img, err = dockerArchiveImage(idx, p); err == nil {
			err = checkPlatform(img, o)
		}
	case idx.has("index.json"):
		img, err = layoutImage(archiveStore{idx}, p, o)
	default:
		err = fmt.Errorf("%s: neither a docker archive (no manifest.json) nor an OCI archive (no index.json)", p)
	}
	if err != nil {
		closeFn()
		return nil, err
	}
	img.closers = append(img.closers, closeFn)
	return img, nil
}

// checkPlatform refuses an image whose config names another platform than
// the one asked for explicitly (Options.Platform): a single-platform
// archive has nothing to choose from, and scanning an arm64 image when
// amd64 was asked for would report the wrong packages silently. An image
// whose config names no platform is taken as it is.
func checkPlatform(img *Image, o Options) error {
	if o.Platform == nil || img.Config == nil || img.Config.OS == "" || img.Config.Architecture == "" {
		return nil
	}
	have := v1.Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant}
	if have.Satisfies(*o.Platform) {
		return nil
	}
	return fmt.Errorf("%s: the image is for platform %s, not %s as asked (--platform)", img.Name, have.String(), o.Platform.String())
}

// OpenOCIArchive opens a tar of an OCI image layout.
func OpenOCIArchive(p string, o Options) (*Image, error) {
	idx, closeFn, err := openArchiveFile(p, o.TempDir, minSpillLimit)
	if err != nil {
		return nil, err
	}
	if !idx.has("index.json") {
		closeFn()
		return nil, fmt.Errorf("%s: not an OCI archive: no index.json", p)
	}
	img, err := layoutImage(archiveStore{idx}, p, o)
	if err != nil {
		closeFn()
		return nil, err
	}
	img.closers = append(img.closers, closeFn)
	return img, nil
}

func dockerArchiveImage(idx *tarIndex, p string) (*Image, error) {
	b, err := idx.readSmall("manifest.json")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var ms []dockerManifest
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("%s: parsing manifest.json: %w", p, err)
	}
	switch len(ms) {
	case 0:
		return nil, fmt.Errorf("%s: manifest.json lists no image", p)
	case 1:
	default:
		var tags []string
		for _, m := range ms {
			tags = append(tags, m.RepoTags...)
		}
		return nil, fmt.Errorf("%s: the archive holds %d images (%s); save one image per archive", p, len(ms), strings.Join(tags, ", "))
	}
	m := ms[0]
	raw, err := idx.readSmall(m.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: reading image config: %w", p, err)
	}
	img, err := newImage(p, raw)
	if err != nil {
		return nil, err
	}
	img.RepoTags = m.RepoTags
	if len(m.Layers) != len(img.Config.RootFS.DiffIDs) {
		return nil, fmt.Errorf("%s: manifest.json lists %d layers but the config has %d diff_ids", p, len(m.Layers), len(img.Config.RootFS.DiffIDs))
	}
	for i, lp := range m.Layers {
		diffID := img.Config.RootFS.DiffIDs[i].String()
		l := &Layer{Index: i, DiffID: diffID, Size: -1}
		if d, ok := blobDigest(lp); ok {
			l.Digest = d
		} else if src, ok := m.LayerSources[diffID]; ok {
			l.Digest = src.Digest.String()
			l.MediaType = string(src.MediaType)
		}
		if sr, err := idx.open(lp); err == nil {
			l.Size = sr.Size()
		} else {
			return nil, fmt.Errorf("%s: layer %d: %w", p, i+1, err)
		}
		lp := lp
		l.open = func() (io.ReadCloser, error) {
			sr, err := idx.open(lp)
			if err != nil {
				return nil, err
			}
			return io.NopCloser(sr), nil
		}
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

// blobDigest recognises the blobs/<alg>/<hex> names of OCI layouts.
func blobDigest(p string) (string, bool) {
	parts := strings.Split(p, "/")
	if len(parts) == 3 && parts[0] == "blobs" && parts[1] == "sha256" && len(parts[2]) == 64 {
		if _, err := hex.DecodeString(parts[2]); err == nil {
			return "sha256:" + parts[2], true
		}
	}
	return "", false
}

// newImage parses an image config and sets the image ID from its digest.
func newImage(name string, raw []byte) (*Image, error) {
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: parsing image config: %w", name, err)
	}
	sum := sha256.Sum256(raw)
	return &Image{
		Name:      name,
		ID:        "sha256:" + hex.EncodeToString(sum[:]),
		Config:    cfg,
		RawConfig: raw,
	}, nil
}
