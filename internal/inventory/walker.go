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

// walkLayers reads the layers one at a time, bottom first, giving every
// entry to w and, for the layers not in the cache (results[i] == nil),
// to the analyzers too. Layers are read in order because w's view of the
// filesystem is built layer on layer; cached layers are read again,
// since w needs them all.
func walkLayers(ctx context.Context, img *image.Image, w LayerWalker, as analyzerSet, tmp string, results []*layerResult, p Progress) error {
	for i, l := range img.Layers {
		count := func(int64) {}
		if p != nil && results[i] == nil {
			count = p.Add
		}
		rc, err := l.OpenCounted(count)
		if err != nil {
			return err
		}
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
		err = image.Walk(ctxReader{ctx, rc}, visit, warn)
		rc.Close()
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
