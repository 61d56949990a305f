package inventory

import (
	"context"
	"io"

	"github.com/tollgate-dev/tollgate/internal/image"
)

// Read-ahead bounds: the layers a LayerWalker needs in order are
// decompressed by one goroutine while the one before is walked, holding
// at most readAheadBytes of decompressed data in chunks.
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
	tokens chan struct{}
	stop   func()
}

func startReadAhead(ctx context.Context, layers []*image.Layer, count func(i int) func(int64)) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	ra := &readAhead{tokens: make(chan struct{}, readAheadChunks), stop: cancel}
	for range layers {
		ra.layers = append(ra.layers, make(chan chunk, readAheadChunks+1))
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
				select {
				case ra.tokens <- struct{}{}:
				case <-ctx.Done():
					rc.Close()
					ch <- chunk{err: ctx.Err()}
					return
				}
				b := make([]byte, readAheadChunk)
				n, err := io.ReadFull(rc, b)
				if n > 0 {
					ch <- chunk{b: b[:n]}
				} else {
					<-ra.tokens
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
	ra  *readAhead
	ch  chan chunk
	cur []byte
	err error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		c := <-r.ch
		if c.err != nil {
			r.err = c.err
			continue
		}
		r.cur = c.b
		<-r.ra.tokens
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
