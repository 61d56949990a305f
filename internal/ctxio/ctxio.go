// Package ctxio makes blocking reads stop when a context is done: standard
// input held open by a writer that never writes, a FIFO with no writer (its
// open blocks) or a large file read by a command that was interrupted.
//
// The operating system gives no portable way to abandon a blocking read(2)
// or open(2) on a pipe, and putting standard input into non-blocking mode
// would change the terminal or pipe of the parent too. So the blocking call
// runs in a goroutine and the caller stops waiting for it when the context
// is done; the goroutine ends when the call returns (at the latest when the
// process exits, which is what follows an interrupt).
package ctxio

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
)

// maxChunk bounds the buffer of one read.
const maxChunk = 1 << 20

type result struct {
	n   int
	err error
}

// reader is an io.Reader whose Read returns the context's cause as soon as
// the context is done, even while the underlying Read blocks.
type reader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	pending chan result // a read in flight into buf, or nil
}

// Reader returns r wrapped so that Read stops waiting when ctx is done and
// returns context.Cause(ctx). Readers that never block (a bytes or strings
// reader or buffer) are checked between reads only; nil stays nil.
func Reader(ctx context.Context, r io.Reader) io.Reader {
	if r == nil {
		return nil
	}
	switch r.(type) {
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		return &checked{ctx: ctx, r: r}
	}
	return &reader{ctx: ctx, r: r}
}

func (c *reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.pending == nil {
		n := min(len(p), maxChunk)
		if cap(c.buf) < n {
			c.buf = make([]byte, n)
		}
		buf := c.buf[:n]
		ch := make(chan result, 1)
		c.pending = ch
		go func() {
			n, err := c.r.Read(buf)
			ch <- result{n, err}
		}()
	}
	select {
	case res := <-c.pending:
		c.pending = nil
		return copy(p, c.buf[:res.n]), res.err
	case <-c.ctx.Done():
		// The read in flight stays pending (buf is its own); every later
		// call fails at the check above, so it is never resumed.
		return 0, context.Cause(c.ctx)
	}
}

// checked is a reader that cannot block: the context is checked before
// each read.
type checked struct {
	ctx context.Context
	r   io.Reader
}

func (c *checked) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}

// Open opens name for reading. When ctx is done before open returns (a
// FIFO that nobody writes to blocks in open), Open returns context.Cause(ctx)
// and the file, once opened, is closed. Reads from the returned file stop
// when ctx is done too.
func Open(ctx context.Context, name string) (io.ReadCloser, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, o.err
		}
		return &file{Reader: Reader(ctx, o.f), f: o.f}, nil
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, context.Cause(ctx)
	}
}

type file struct {
	io.Reader
	f *os.File
}

func (f *file) Close() error { return f.f.Close() }

// ReadFile reads the whole of name like os.ReadFile, but stops when ctx is
// done.
func ReadFile(ctx context.Context, name string) ([]byte, error) {
	f, err := Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
