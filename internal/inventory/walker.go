package inventory

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/tollgate-dev/tollgate/internal/image"
)

// LayerWalker receives every entry of every layer of an image, bottom
// layer first, from the same read of each layer the inventory makes
// (imagecheck.Checker is one).
type LayerWalker interface {
	Entry(layer int, e *image.Entry, content io.Reader) error
}

// walkLayers walks the layers one at a time, bottom first (decompressed
// ahead by a goroutine, see readAhead), giving every
// entry to w and, for the layers not in the cache (results[i] == nil),
// to the analyzers too. Layers are read in order because w's view of the
// filesystem is built layer on layer; cached layers are read again,
// since w needs them all.
func walkLayers(ctx context.Context, img *image.Image, w LayerWalker, as analyzerSet, tmp string, results []*layerResult, p Progress) error {
	ra := startReadAhead(ctx, img.Layers, func(i int) func(int64) {
		if p != nil && results[i] == nil {
			return p.Add
		}
		return nil
	})
	defer ra.stop()
	for i, l := range img.Layers {
		var c *collector
		if results[i] == nil {
			c = newCollector(as, tmp)
		}
		var head bytes.Buffer
		visit := func(e *image.Entry, content io.Reader) error {
			if c == nil {
				return w.Entry(i, e, content)
			}
			if e.Type != image.TypeFile {
				if err := w.Entry(i, e, nil); err != nil {
					return err
				}
				return c.entry(e, nil)
			}
			// The walker reads what it needs first; the analyzers get
			// those bytes again, then the rest of the stream.
			head.Reset()
			if err := w.Entry(i, e, io.TeeReader(content, &head)); err != nil {
				return err
			}
			return c.entry(e, io.MultiReader(bytes.NewReader(head.Bytes()), content))
		}
		warn := func(string) {}
		if c != nil {
			warn = c.warn
		}
		r := ctxReader{ctx, ra.reader(i)}
		err := image.Walk(r, visit, warn)
		if err == nil {
			// The tar's end padding: read to the end, where the layer's
			// digest is checked, and so that its chunks free their room.
			_, err = io.Copy(io.Discard, r)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("layer %s: %w", l.Name(), err)
		}
		if c != nil {
			if results[i], err = c.result(); err != nil {
				return err
			}
		}
	}
	return nil
}
