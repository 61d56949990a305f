package inventory

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// An analyzer reads one kind of file. The walkers (layer tar, directory)
// ask every analyzer whether it wants a path and hand it the file's
// content when it does; nothing else is read.
type analyzer interface {
	// name is stable: it is part of cache entries.
	name() string
	// version changes whenever the analyzer's output for the same input
	// changes, so stale cache entries are not reused.
	version() int
	// required reports whether the analyzer wants the file at p (clean,
	// relative, '/'-separated).
	required(p string, mode fs.FileMode) bool
	// maxSize is the largest file the analyzer reads. Bigger files are
	// skipped with a warning, never read into memory.
	maxSize() int64
	analyze(f *file) (*fileResult, error)
}

// headChecker is implemented by analyzers that can turn a file down from
// its first bytes (the executable analyzer checks for ELF/PE/Mach-O), so
// the rest is never buffered.
type headChecker interface {
	acceptHead(head []byte) bool
}

// fileResult is what one analyzer found in one file.
type fileResult struct {
	Path     string    `json:"path"`
	Analyzer string    `json:"analyzer"`
	Packages []Package `json:"packages,omitempty"`
	Release  *release  `json:"release,omitempty"`
	// Licenses maps package names to licenses found in files that only
	// describe licenses (Debian copyright files).
	Licenses map[string][]string `json:"licenses,omitempty"`
	// Error is set when the file could not be analyzed. The file still
	// shadows versions of it in lower layers.
	Error string `json:"error,omitempty"`
}

// file is a regular file handed to an analyzer. Its content is in memory
// when small and in a spill file otherwise.
type file struct {
	Path string
	Mode fs.FileMode
	Size int64

	data   []byte
	disk   *os.File
	tmpDir string
}

func (f *file) reader() io.Reader {
	if f.disk != nil {
		return io.NewSectionReader(f.disk, 0, f.Size)
	}
	return bytes.NewReader(f.data)
}

func (f *file) readerAt() io.ReaderAt {
	if f.disk != nil {
		return f.disk
	}
	return bytes.NewReader(f.data)
}

// diskPath returns a path holding the content, for libraries that insist on
// opening a file themselves (the rpm database reader). The file lives in
// the scan's temp directory.
func (f *file) diskPath() (string, error) {
	if f.disk != nil {
		return f.disk.Name(), nil
	}
	d, err := os.CreateTemp(f.tmpDir, "spill-*")
	if err != nil {
		return "", err
	}
	if _, err := d.Write(f.data); err != nil {
		d.Close()
		os.Remove(d.Name())
		return "", err
	}
	f.disk = d
	return d.Name(), nil
}

func (f *file) close() {
	if f.disk != nil {
		f.disk.Close()
		os.Remove(f.disk.Name())
		f.disk = nil
	}
}

// Sizes for reading files. Up to memLimit a file is read into memory;
// larger ones go to a spill file in the scan's temp directory. With a few
// layers in flight that keeps buffered content to some tens of MiB.
const (
	memLimit = 4 << 20
	headSize = 512
)

// readFile reads the content of a file the analyzers in as want. It reads
// at most size bytes from r and fails when r ends early.
func readFile(p string, mode fs.FileMode, size int64, r io.Reader, as []analyzer, tmpDir string) (*file, []analyzer, error) {
	head := make([]byte, min(size, headSize))
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", p, err)
	}
	var keep []analyzer
	for _, a := range as {
		if hc, ok := a.(headChecker); ok && !hc.acceptHead(head) {
			continue
		}
		keep = append(keep, a)
	}
	if len(keep) == 0 {
		return nil, nil, nil
	}
	f := &file{Path: p, Mode: mode, Size: size, tmpDir: tmpDir}
	rest := io.LimitReader(r, size-int64(len(head)))
	if size <= memLimit {
		f.data = make([]byte, size)
		copy(f.data, head)
		if _, err := io.ReadFull(rest, f.data[len(head):]); err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", p, err)
		}
		return f, keep, nil
	}
	d, err := os.CreateTemp(tmpDir, "spill-*")
	if err != nil {
		return nil, nil, err
	}
	f.disk = d
	if _, err := d.Write(head); err != nil {
		f.close()
		return nil, nil, err
	}
	n, err := io.Copy(d, rest)
	if err == nil && n != size-int64(len(head)) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		f.close()
		return nil, nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return f, keep, nil
}

// analyzerSet is the list of analyzers a scan runs.
type analyzerSet []analyzer

// wanting returns the analyzers that want the file.
func (s analyzerSet) wanting(p string, mode fs.FileMode) []analyzer {
	var out []analyzer
	for _, a := range s {
		if a.required(p, mode) {
			out = append(out, a)
		}
	}
	return out
}

// fingerprint names the analyzers and their versions; it is part of the
// cache key, so a changed analyzer never reads a stale entry.
func (s analyzerSet) fingerprint() string {
	parts := make([]string, 0, len(s))
	for _, a := range s {
		parts = append(parts, a.name()+"@"+strconv.Itoa(a.version()))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// analyzeFile runs the analyzers on one file. An analyzer error becomes a
// fileResult with Error set: the file exists in this layer, so it hides
// older versions of itself, but nothing is known from it.
func analyzeFile(f *file, as []analyzer) []fileResult {
	var out []fileResult
	for _, a := range as {
		var res *fileResult
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("analyzer failed: %v", r)
				}
			}()
			res, err = a.analyze(f)
		}()
		if err != nil {
			out = append(out, fileResult{Path: f.Path, Analyzer: a.name(), Error: err.Error()})
			continue
		}
		if res == nil {
			res = &fileResult{}
		}
		res.Path = f.Path
		res.Analyzer = a.name()
		// A package's FilePath is left empty when it is the file itself
		// (merge fills it in): cache entries stay smaller and faster to read.
		for i := range res.Packages {
			if res.Packages[i].FilePath == f.Path {
				res.Packages[i].FilePath = ""
			}
		}
		out = append(out, *res)
	}
	return out
}
