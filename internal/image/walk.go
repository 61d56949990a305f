package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// EntryType classifies a layer entry after whiteouts are decoded.
type EntryType int

const (
	TypeFile     EntryType = iota // regular file; Walk passes its content
	TypeDir                       // directory
	TypeSymlink                   // symbolic link; never followed
	TypeHardlink                  // hard link to Linkname (an earlier entry)
	TypeOther                     // device, fifo, …
	TypeWhiteout                  // Path was deleted from lower layers
	TypeOpaque                    // everything below directory Path in lower layers was deleted
)

// Entry is one entry of a layer tar. Path is relative to the image root,
// '/'-separated, cleaned, without a leading "/" and never "..": names that
// climb out of the root are not passed on (see Walk).
type Entry struct {
	Path     string
	Type     EntryType
	Mode     fs.FileMode
	Size     int64
	Linkname string // symlink target as written; hardlink target made safe like Path
}

// Whiteout markers (OCI image spec, "Whiteouts"; the aufs convention).
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	aufsMeta       = ".wh..wh."
)

// Walk reads a layer tar and calls fn for every entry. For regular files r
// yields the content (at most Size bytes); fn may leave it unread. Entries
// whose names escape the root ("../x", "a/../../x") are skipped and
// reported to warn; absolute names are taken relative to the root, as
// container runtimes do. Walk reads the stream to its end, so a verifying
// reader (Layer.Open) gets to check the whole layer, and a truncated or
// corrupt stream is an error.
func Walk(r io.Reader, fn func(e *Entry, content io.Reader) error, warn func(string)) error {
	tail := &tailReader{r: r}
	tr := tar.NewReader(tail)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return tarError(err, tail.n)
		}
		e, ok := entryOf(hdr, warn)
		if !ok {
			continue
		}
		var content io.Reader
		if e.Type == TypeFile {
			content = tr
		}
		if err := fn(e, content); err != nil {
			return err
		}
	}
	// archive/tar takes a stream that stops at a block boundary for a
	// complete archive; one cut there (a truncated download, a partial
	// copy) must not pass for a layer with fewer files.
	if !tail.endMarker() {
		return fmt.Errorf("reading tar: the layer ends after %d bytes without the end-of-archive marker: it is truncated", tail.n)
	}
	// Drain what follows the end-of-archive marker so the whole stream is
	// decompressed and verified (and truncation after it is still seen).
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("reading tar: %w", err)
	}
	return nil
}

// tarError words an error of archive/tar.
func tarError(err error, offset int64) error {
	switch {
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("reading tar: not a tar archive, or corrupt: bad entry header near byte %d", offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("reading tar: the layer is truncated (it ends inside an entry, after %d bytes)", offset)
	}
	return fmt.Errorf("reading tar: %w", err)
}

// tailReader counts the bytes read through it and keeps the last tar
// block, so Walk can tell the end-of-archive marker (a zero block) from a
// stream that merely stops.
type tailReader struct {
	r    io.Reader
	n    int64
	last [blockSize]byte // the last blockSize bytes read
}

const blockSize = 512

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n >= blockSize {
		copy(t.last[:], p[n-blockSize:n])
	} else {
		copy(t.last[:], t.last[n:])
		copy(t.last[blockSize-n:], p[:n])
	}
	t.n += int64(n)
	return n, err
}

// endMarker reports whether the stream read so far ends with a whole zero
// block (at a block boundary, the last blockSize bytes are the last block): archive/tar stops at the first one of the end-of-archive marker
// when the second is missing, which is harmless.
func (t *tailReader) endMarker() bool {
	if t.n < blockSize || t.n%blockSize != 0 {
		return false
	}
	return t.last == [blockSize]byte{}
}

// SafePath turns a tar entry name into a path relative to the root, or
// reports false when the name climbs out of the root.
func SafePath(name string) (string, bool) {
	name = strings.TrimLeft(name, "/")
	if name == "" {
		return "", false
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	if clean == "." {
		return "", false
	}
	return clean, true
}

func entryOf(hdr *tar.Header, warn func(string)) (*Entry, bool) {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return nil, false
	}
	p, ok := SafePath(hdr.Name)
	if !ok {
		if strings.Trim(hdr.Name, "/.") != "" && warn != nil {
			warn(fmt.Sprintf("skipped tar entry %q: its name leaves the image root", hdr.Name))
		}
		return nil, false
	}
	dir, base := path.Split(p)
	if (strings.HasPrefix(base, aufsMeta) && base != opaqueMarker) || strings.HasPrefix(dir, aufsMeta) || strings.Contains(dir, "/"+aufsMeta) {
		return nil, false // aufs bookkeeping (.wh..wh.plnk/…, .wh..wh.aufs)
	}
	e := &Entry{Path: p, Mode: hdr.FileInfo().Mode(), Size: hdr.Size}
	dir = strings.TrimSuffix(dir, "/")
	if strings.HasPrefix(base, whiteoutPrefix) {
		if base == opaqueMarker {
			if dir == "" {
				dir = "." // the root itself is opaque
			}
			return &Entry{Path: dir, Type: TypeOpaque}, true
		}
		// The deleted name is one entry of dir: ".wh." alone, ".wh.."
		// and ".wh..." would name dir itself or its parent.
		gone := base[len(whiteoutPrefix):]
		if gone == "" || gone == "." || gone == ".." {
			if warn != nil {
				warn(fmt.Sprintf("skipped whiteout %q: it names no entry of its directory", hdr.Name))
			}
			return nil, false
		}
		return &Entry{Path: path.Join(dir, gone), Type: TypeWhiteout}, true
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		e.Type = TypeFile
	case tar.TypeDir:
		e.Type = TypeDir
	case tar.TypeSymlink:
		e.Type = TypeSymlink
		e.Linkname = hdr.Linkname
	case tar.TypeLink:
		target, ok := SafePath(hdr.Linkname)
		if !ok {
			if warn != nil {
				warn(fmt.Sprintf("skipped hard link %q: its target %q leaves the image root", hdr.Name, hdr.Linkname))
			}
			return nil, false
		}
		e.Type = TypeHardlink
		e.Linkname = target
		e.Size = 0
	default:
		e.Type = TypeOther
		e.Size = 0
	}
	return e, true
}
