package inventory

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/tollgate-dev/tollgate/internal/image"
)

// Options control a scan.
type Options struct {
	// Image says how images are opened (credentials, platform, TLS).
	Image image.Options
	// CacheDir holds the per-layer cache; "" disables it.
	CacheDir string
	// Parallel is how many layers are analysed at once (default: the
	// number of CPUs, at most 4).
	Parallel int
	// TempDir receives spill files ("" = the system temp directory). They
	// are removed before the scan returns.
	TempDir string
	// Progress, when set, is told how many stored (compressed) layer bytes
	// there are to read and how many have been read.
	Progress Progress
	// Walker, when set, is called with the opened image; the walker it
	// returns is given every entry of every layer from the inventory's
	// own read of the layers (see LayerWalker). Layers are then read one
	// at a time, cached ones too. A nil walker (the caller has what it
	// needs, from its own cache) leaves the layers to the inventory.
	Walker func(img *image.Image) (LayerWalker, error)
}

// Progress receives progress reports. Add is called from several
// goroutines.
type Progress interface {
	Start(total int64)
	Add(n int64)
	Finish()
}

func (o Options) parallel() int {
	if o.Parallel > 0 {
		return o.Parallel
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

// imageAnalyzers read what is installed: they run on images and root
// filesystems.
func imageAnalyzers() analyzerSet {
	return analyzerSet{
		osReleaseAnalyzer{},
		dpkgAnalyzer{},
		dpkgCopyrightAnalyzer{},
		apkAnalyzer{},
		rpmAnalyzer{},
		goBinaryAnalyzer{},
		pythonAnalyzer{},
		nodeAnalyzer{},
		javaAnalyzer{},
	}
}

// sourceAnalyzers read lock files: they run on source directories and
// repositories.
func sourceAnalyzers() analyzerSet {
	return analyzerSet(lockAnalyzers())
}

// Bounds on what one layer may record. A layer that deletes a whole tree
// writes one whiteout for its top directory, so real layers stay far below.
const (
	maxLayerPaths    = 1_000_000
	maxLayerWarnings = 100
)

// ScanImage inventories an opened image: each layer is read once (layers
// in parallel), or taken from the cache, and the layers' findings are
// combined with whiteouts applied, so the result describes the image's
// final filesystem and names for each package the layer it came from.
func ScanImage(ctx context.Context, img *image.Image, o Options) (*Inventory, error) {
	as := imageAnalyzers()
	fp := as.fingerprint()
	var cache *layerCache
	var warnings []string
	if o.CacheDir != "" {
		c, err := newLayerCache(o.CacheDir)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("cache disabled: %v", err))
		} else {
			cache = c
		}
	}
	results := make([]*layerResult, len(img.Layers))
	keys := make([]string, len(img.Layers))
	var missing []int
	var total int64
	for i, l := range img.Layers {
		keys[i] = cacheKey(l.DiffID, fp)
		if cache != nil {
			if r, ok := cache.get(keys[i]); ok {
				results[i] = r
				continue
			}
		}
		missing = append(missing, i)
		total += max(l.Size, 0)
	}
	var tmp string
	if len(missing) > 0 {
		var err error
		if tmp, err = os.MkdirTemp(o.TempDir, "tollgate-scan-*"); err != nil {
			return nil, fmt.Errorf("creating temp directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		if o.Progress != nil {
			o.Progress.Start(total)
			defer o.Progress.Finish()
		}
	}
	cacheErrs := make([]error, len(img.Layers))
	if o.Walker != nil {
		w, err := o.Walker(img)
		if err != nil {
			return nil, err
		}
		if w != nil {
			if err := walkLayers(ctx, img, w, as, tmp, results, o.Progress); err != nil {
				return nil, err
			}
			if cache != nil {
				for _, i := range missing {
					cacheErrs[i] = cache.put(keys[i], results[i])
				}
			}
			missing = nil
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.parallel())
	for _, i := range missing {
		l := img.Layers[i]
		g.Go(func() error {
			r, err := analyzeLayer(gctx, l, as, tmp, o.Progress)
			if err != nil {
				return err
			}
			results[i] = r
			if cache != nil {
				cacheErrs[i] = cache.put(keys[i], r)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, err := range cacheErrs {
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("cache: %v", err))
			break
		}
	}
	layers := make([]Layer, len(img.Layers))
	for i, l := range img.Layers {
		layers[i] = Layer{Index: i, Digest: l.Digest, DiffID: l.DiffID}
	}
	inv := merge(results, layers)
	inv.Warnings = append(warnings, inv.Warnings...)
	inv.Source = Source{
		Name:        img.Name,
		ImageID:     img.ID,
		Digest:      img.ManifestDigest,
		RepoTags:    img.RepoTags,
		RepoDigests: img.RepoDigests,
		Layers:      layers,
	}
	if img.Config != nil {
		inv.Source.Arch = img.Config.Architecture
		inv.Source.OSName = img.Config.OS
		inv.Source.Config = img.Config
	}
	return inv, nil
}

// analyzeLayer reads one layer and runs the analyzers on the files they want.
func analyzeLayer(ctx context.Context, l *image.Layer, as analyzerSet, tmp string, p Progress) (*layerResult, error) {
	count := func(int64) {}
	if p != nil {
		count = p.Add
	}
	rc, err := l.OpenCounted(count)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	c := newCollector(as, tmp)
	if err := image.Walk(ctxReader{ctx, rc}, c.entry, c.warn); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("layer %s: %w", l.Name(), err)
	}
	return c.result()
}

// collector gathers what the analyzers find in one layer (or directory).
type collector struct {
	as       analyzerSet
	tmp      string
	res      layerResult
	analyzed map[string][]fileResult
	paths    int
}

func newCollector(as analyzerSet, tmp string) *collector {
	return &collector{as: as, tmp: tmp, analyzed: map[string][]fileResult{}}
}

func (c *collector) warn(s string) {
	if len(c.res.Warnings) < maxLayerWarnings {
		c.res.Warnings = append(c.res.Warnings, s)
	}
}

func (c *collector) addPath(list *[]string, p string) error {
	c.paths++
	if c.paths > maxLayerPaths {
		return fmt.Errorf("more than %d whiteouts and replaced paths", maxLayerPaths)
	}
	*list = append(*list, p)
	return nil
}

// remove records that p, if analyzers would read it, is gone or unreadable
// from this layer on.
func (c *collector) remove(p string) error {
	delete(c.analyzed, p)
	if len(c.as.wanting(p, 0o755)) > 0 {
		return c.addPath(&c.res.Removed, p)
	}
	return nil
}

func (c *collector) entry(e *image.Entry, content io.Reader) error {
	switch e.Type {
	case image.TypeWhiteout:
		return c.addPath(&c.res.Whiteouts, e.Path)
	case image.TypeOpaque:
		return c.addPath(&c.res.Opaque, e.Path)
	case image.TypeFile:
		return c.file(e.Path, e.Mode, e.Size, content)
	case image.TypeHardlink:
		if rs, ok := c.analyzed[e.Linkname]; ok {
			c.analyzed[e.Path] = relocate(rs, e.Linkname, e.Path)
			return nil
		}
		return c.remove(e.Path)
	case image.TypeSymlink, image.TypeOther:
		return c.remove(e.Path)
	case image.TypeDir:
		// Directory entries appear in every layer that changes something
		// below them; only a file of the same name is replaced.
		delete(c.analyzed, e.Path)
		if len(c.as.wanting(e.Path, 0o644)) > 0 {
			return c.addPath(&c.res.Shadowed, e.Path)
		}
	}
	return nil
}

func (c *collector) file(p string, mode fs.FileMode, size int64, content io.Reader) error {
	want := c.as.wanting(p, mode)
	if len(want) == 0 {
		delete(c.analyzed, p)
		return nil
	}
	fits := want[:0:0]
	for _, a := range want {
		if size <= a.maxSize() {
			fits = append(fits, a)
		} else {
			c.warn(fmt.Sprintf("%s: %d bytes, larger than the %s analyzer reads (%d): not analyzed", p, size, a.name(), a.maxSize()))
		}
	}
	if len(fits) == 0 {
		return c.remove(p)
	}
	f, keep, err := readFile(p, mode, size, content, fits, c.tmp)
	if err != nil {
		return err
	}
	if f == nil {
		// Not what the analyzers read (a script where a binary was): it
		// still replaces whatever lower layers had at this path.
		return c.remove(p)
	}
	defer f.close()
	c.analyzed[p] = analyzeFile(f, keep)
	return nil
}

func (c *collector) result() (*layerResult, error) {
	paths := make([]string, 0, len(c.analyzed))
	for p := range c.analyzed {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		c.res.Files = append(c.res.Files, c.analyzed[p]...)
	}
	return &c.res, nil
}

// relocate copies results found at one path (the target of a hard link)
// to another.
func relocate(rs []fileResult, from, to string) []fileResult {
	out := make([]fileResult, len(rs))
	for i, r := range rs {
		r.Path = to
		r.Packages = slices.Clone(r.Packages)
		for j := range r.Packages {
			if r.Packages[j].FilePath == from {
				r.Packages[j].FilePath = to
			} else if rest, ok := cutPathPrefix(r.Packages[j].FilePath, from); ok {
				r.Packages[j].FilePath = to + rest
			}
		}
		out[i] = r
	}
	return out
}

func cutPathPrefix(p, prefix string) (string, bool) {
	if len(p) > len(prefix) && p[:len(prefix)] == prefix && p[len(prefix)] == '/' {
		return p[len(prefix):], true
	}
	return "", false
}

// ctxReader stops a long read when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
