// Package image opens container images without a daemon — from a registry,
// a `docker save` tar (classic or OCI-in-tar), an OCI layout directory or an
// OCI archive — and streams their layers as verified, uncompressed tar.
//
// Nothing here extracts files to disk: Walk hands each tar entry to a
// callback with a name made safe (no "..", no leading "/") and whiteouts
// decoded, so callers read what they need and discard the rest.
package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Image is an opened image: its configuration and its layers, bottom first.
type Image struct {
	// Name is the reference or path the image was opened from.
	Name string
	// ID is the digest of the config blob ("sha256:…"), Docker's image ID.
	ID string
	// ManifestDigest is the digest of the image manifest, when the source
	// has one (registry, OCI layout); "" for a classic docker save tar.
	ManifestDigest string
	RepoTags       []string
	RepoDigests    []string
	Config         *v1.ConfigFile
	RawConfig      []byte
	Layers         []*Layer

	closers []func() error
}

// Close releases what opening the image took (open files, spill files).
func (img *Image) Close() error {
	var errs []error
	for i := len(img.closers) - 1; i >= 0; i-- {
		errs = append(errs, img.closers[i]())
	}
	img.closers = nil
	return errors.Join(errs...)
}

// Layer is one layer of an image.
type Layer struct {
	Index int
	// Digest is the digest of the blob as stored or distributed, "" when the
	// source does not name layers by digest (classic docker save).
	Digest string
	// DiffID is the digest of the uncompressed tar, from the image config.
	DiffID    string
	Size      int64 // stored size in bytes, -1 when unknown
	MediaType string

	open func() (io.ReadCloser, error)
}

// maxZstdWindow bounds the memory a zstd-compressed layer may ask for. The
// zstd format lets a stream declare windows up to 3.75 TB; real layers use
// 8 MiB or less (zstd's default window for levels up to 19).
const maxZstdWindow = 64 << 20

// OpenStored opens the layer blob as stored (possibly compressed).
func (l *Layer) OpenStored() (io.ReadCloser, error) {
	return l.open()
}

// Open returns the uncompressed layer tar. The stream is checked against
// the layer's DiffID: when it ends, a mismatch is reported as an error from
// Read instead of io.EOF, so a consumer that reads to the end (Walk does)
// never accepts content the image config does not vouch for.
func (l *Layer) Open() (io.ReadCloser, error) {
	return l.OpenCounted(nil)
}

// OpenCounted is Open that also reports, through count, how many stored
// (compressed) bytes have been read, for progress displays.
func (l *Layer) OpenCounted(count func(n int64)) (io.ReadCloser, error) {
	rc, err := l.open()
	if err != nil {
		return nil, fmt.Errorf("opening layer %s: %w", l.Name(), err)
	}
	if count != nil {
		rc = &countingReader{rc: rc, count: count}
	}
	r, err := decompress(rc)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("opening layer %s: %w", l.Name(), err)
	}
	algo, want, ok := strings.Cut(l.DiffID, ":")
	if !ok || algo != "sha256" {
		r.Close()
		return nil, fmt.Errorf("layer %s: unsupported diffID %q", l.Name(), l.DiffID)
	}
	return &verifier{r: r, h: sha256.New(), want: want, layer: l.Name()}, nil
}

// Name identifies the layer in messages: its position and digest.
func (l *Layer) Name() string {
	id := l.Digest
	if id == "" {
		id = l.DiffID
	}
	return fmt.Sprintf("%d (%s)", l.Index+1, id)
}

// ErrDiffIDMismatch reports layer content that does not hash to the DiffID
// the image config declares.
var ErrDiffIDMismatch = errors.New("layer content does not match its diffID")

type verifier struct {
	r     io.ReadCloser
	h     hash.Hash
	want  string
	layer string
	err   error
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			v.err = fmt.Errorf("layer %s: got sha256:%s: %w", v.layer, got, ErrDiffIDMismatch)
			return n, v.err
		}
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *verifier) Close() error { return v.r.Close() }

// decompress detects gzip or zstd by magic number and returns the
// uncompressed stream; anything else is passed through as tar.
func decompress(rc io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading gzip header: %w", err)
		}
		return &stack{Reader: zr, closers: []io.Closer{zr, rc}}, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, fmt.Errorf("reading zstd header: %w", err)
		}
		return &stack{Reader: zr, closers: []io.Closer{closerFunc(func() error { zr.Close(); return nil }), rc}}, nil
	}
	return &stack{Reader: br, closers: []io.Closer{rc}}, nil
}

type countingReader struct {
	rc    io.ReadCloser
	count func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		c.count(int64(n))
	}
	return n, err
}

func (c *countingReader) Close() error { return c.rc.Close() }

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// stack is a reader whose Close closes several layers of readers.
type stack struct {
	io.Reader
	closers []io.Closer
}

func (s *stack) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
