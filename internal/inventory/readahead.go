package inventory

import (
	"context"
	"io"

	"github.com/tollgate-dev/tollgate/internal/image"
)

// Read-ahead bounds: the layers a LayerWalker needs in order are
// decompressed by one goroutine while the one before is walked, into at
// most readAheadChunks buffers of readAheadChunk bytes, reused.
const (
	readAheadChunk  = 256 << 10
	readAheadChunks = 128 // 32 MiB
)

// chunk is a piece of a layer's decompressed stream, or its end (err).
type chunk struct {
	b   []byte
	err error // io.EOF at the end
}

// readAhead decompresses the layers in order in the background. Reader
// i yields layer i; the readers must be read in order, and stop must be
// called when done (it ends the goroutine).
type readAhead struct {
	layers []chan chunk
	free   chan []byte // chunk buffers given back by the reader
	stop   func()
}

func startReadAhead(ctx context.Context, layers []*image.Layer, count func(i int) func(int64)) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	ra := &readAhead{free: make(chan []byte, readAheadChunks), stop: cancel}
	for range layers {
		ra.layers = append(ra.layers, make(chan chunk, readAheadChunks+1))
	}
	allocated := 0
	// buffer waits for a free chunk buffer (the bound), or makes one.
	buffer := func() ([]byte, bool) {
		select {
		case b := <-ra.free:
			return b, true
		default:
		}
		if allocated < readAheadChunks {
			allocated++
			return make([]byte, readAheadChunk), true
		}
		select {
		case b := <-ra.free:
			return b, true
		case <-ctx.Done():
			return nil, false
		}
	}
	go func() {
		for i, l := range layers {
			ch := ra.layers[i]
			rc, err := l.OpenCounted(count(i))
			if err != nil {
				ch <- chunk{err: err}
				continue
			}
			for {
				b, ok := buffer()
				if !ok {
					rc.Close()
					ch <- chunk{err: ctx.Err()}
					return
				}
				n, err := io.ReadFull(rc, b)
				if n > 0 {
					ch <- chunk{b: b[:n]}
				} else {
					ra.free <- b
				}
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				if err != nil {
					ch <- chunk{err: err}
					break
				}
			}
			rc.Close()
		}
	}()
	return ra
}

// reader returns the stream of layer i.
func (ra *readAhead) reader(i int) io.Reader { return &chunkReader{ra: ra, ch: ra.layers[i]} }

type chunkReader struct {
	ra   *readAhead
	ch   chan chunk
	buf  []byte // the chunk being read, given back when done
	cur  []byte // what is left of it
	err  error
	held bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.held {
			r.ra.free <- r.buf[:cap(r.buf)]
			r.held = false
		}
		if r.err != nil {
			return 0, r.err
		}
		c := <-r.ch
		if c.err != nil {
			r.err = c.err
			continue
		}
		r.buf, r.cur, r.held = c.b, c.b, true
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
