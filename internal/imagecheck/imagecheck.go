// Package imagecheck checks a built image for the hygiene problems a
// Dockerfile linter cannot see: it reads the image config, the history
// and every layer's files once, keeps track of what later layers delete,
// and reports each problem with the layer that caused it (digest and the
// history line) and the path.
//
// Checks carry dockle's IDs where dockle has the check (CIS-DI-…, DKL-…)
// and TG2xx IDs for tollgate's own; Rules documents each one and how it
// differs from dockle. Credentials are found with package secret, in the
// config and in every layer's files, including files a later layer
// deleted.
package imagecheck

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// Layer names an image layer as Trivy's reports do.
type Layer = secret.Layer

// Finding is one problem found. The field names are those of Trivy's JSON
// report (DetectedMisconfiguration), plus the path, the size in bytes and
// the layer that deleted what the finding is about.
type Finding struct {
	Type        string // always "image"
	ID          string
	AVDID       string // the same as ID: tollgate's checks have no AVD entries
	Title       string
	Description string
	Message     string
	Resolution  string
	Severity    string
	Status      string // always "FAIL": passing checks are not listed
	// Path is the file or directory the finding is about ("" for config
	// and history findings), relative to the image root.
	Path string `json:",omitempty"`
	// Size is the number of bytes the finding is about (caches, waste,
	// installed size), 0 when it does not apply.
	Size int64 `json:",omitempty"`
	// Layer is the layer that made the problem.
	Layer *Layer `json:",omitempty"`
	// DeletedIn is the later layer that deleted or replaced it.
	DeletedIn *Layer `json:",omitempty"`
}

// Result is what Check found.
type Result struct {
	// Misconfigurations are the hygiene findings, CIS-DI-0010 included.
	Misconfigurations []Finding
	// Secrets are the credentials found, in Trivy's secret shape, each
	// with its layer (image config findings have none).
	Secrets []secret.Finding
	// SecretStats counts the files scanned for secrets and those skipped.
	SecretStats secret.Stats
	// Warnings are things a reader of the report should know (findings
	// left out over the limit, history that does not match the layers).
	Warnings []string
}

// Defaults of Options.
const (
	DefaultMinWasteBytes = 1 << 20
	DefaultMaxFindings   = 100
)

// Options tune the checks. The zero value runs every check with the
// defaults and no secret scanning.
type Options struct {
	// Secrets scans the config and every layer's files for credentials
	// (CIS-DI-0010 and Result.Secrets); nil turns secret scanning off.
	Secrets *secret.Scanner
	// MinWasteBytes is the size from which a layer's deleted or replaced
	// files are reported (TG203); 0 means DefaultMinWasteBytes (1 MiB).
	MinWasteBytes int64
	// MinCacheBytes is the size from which a package-manager cache is
	// reported (TG201, DKL-DI-0004, DKL-DI-0005); 0 means any non-empty
	// cache.
	MinCacheBytes int64
	// MaxFindings bounds the findings of one check (0 means
	// DefaultMaxFindings); the rest are counted in a warning.
	MaxFindings int
	// Skip lists check IDs not to run.
	Skip []string
	// Cache keeps each layer's facts (what the checks read of it, the
	// secrets in its files) between runs, keyed by the layer's diff ID and
	// everything that decides the facts (the secret rules and limits);
	// nil reads every layer. Thresholds and Skip are applied anew.
	Cache Cache
}

func (o Options) minWaste() int64 {
	if o.MinWasteBytes > 0 {
		return o.MinWasteBytes
	}
	return DefaultMinWasteBytes
}

func (o Options) maxFindings() int {
	if o.MaxFindings > 0 {
		return o.MaxFindings
	}
	return DefaultMaxFindings
}

// Check runs the hygiene checks on an opened image. Each layer is read
// once, bottom first, unless its facts are in o.Cache.
func Check(ctx context.Context, img *image.Image, o Options) (*Result, error) {
	c, err := NewChecker(img, o)
	if err != nil {
		return nil, err
	}
	for i, l := range img.Layers {
		if c.cached[i] != nil {
			continue
		}
		visit := func(e *image.Entry, content io.Reader) error { return c.Entry(i, e, content) }
		if err := readLayer(ctx, l, visit, func(s string) { c.walkWarning(i, s) }); err != nil {
			return nil, err
		}
	}
	return c.Result()
}

// Checker is Check taken apart, for a caller that walks the layers itself
// so that one read of each layer serves several analyses (decompressing
// the layers is most of a check's time): call Entry with every entry
// image.Walk gives, layer by layer from the bottom, then Result. When
// NeedsLayers is false every layer's facts came from the cache, and
// Result alone gives the findings.
type Checker struct {
	r       *run
	done    bool
	err     error
	cache   Cache
	keys    []string
	cached  []*layerFacts // from the cache; nil where missing
	live    []*layerFacts // read in this run, to store
	started int           // the last layer started, -1 for none
}

// NewChecker starts a check of img, whose Config must be set, and looks
// up its layers' facts in o.Cache.
func NewChecker(img *image.Image, o Options) (*Checker, error) {
	if img.Config == nil {
		return nil, fmt.Errorf("%s: the image has no config", img.Name)
	}
	n := len(img.Layers)
	c := &Checker{r: newRun(img, o), cache: o.Cache, keys: make([]string, n), cached: make([]*layerFacts, n), live: make([]*layerFacts, n), started: -1}
	if c.cache != nil {
		for i, l := range img.Layers {
			if l.DiffID == "" {
				continue // nothing names its content: never cached
			}
			c.keys[i] = factsKey(l.DiffID, &o)
			c.cached[i] = loadFacts(c.cache, c.keys[i])
		}
	}
	return c, nil
}

// NeedsLayers reports whether some layer must be read (its facts are not
// in the cache).
func (c *Checker) NeedsLayers() bool { return slices.Contains(c.cached, nil) }

// Entry takes one entry of layer i (0-based); layers must come in order.
// content is the file's content for regular files, as image.Walk gives it.
// Entries of a layer whose facts came from the cache are not looked at.
func (c *Checker) Entry(i int, e *image.Entry, content io.Reader) error {
	if c.done || i < c.started || i >= len(c.r.img.Layers) {
		return fmt.Errorf("imagecheck: entry of layer %d out of order", i+1)
	}
	if err := c.startUpTo(i); err != nil {
		return err
	}
	if c.cached[i] != nil {
		return nil
	}
	f, err := c.r.readEntry(e, content)
	if err != nil {
		return err
	}
	return c.add(i, f)
}

// walkWarning takes a problem Check's walk met in layer i's tar.
func (c *Checker) walkWarning(i int, s string) {
	if c.startUpTo(i) == nil && c.cached[i] == nil {
		c.err = c.add(i, fact{Type: walkWarning, Warning: s})
	}
}

// add applies a fact of layer i, and keeps it for the cache.
func (c *Checker) add(i int, f fact) error {
	if lf := c.live[i]; lf != nil {
		lf.Entries = append(lf.Entries, f)
	}
	return c.r.apply(&f)
}

// startUpTo starts the layers up to i: a cached layer's facts are applied
// when it starts, a read one's as its entries come. An error (too many
// paths) sticks: the view is then incomplete.
func (c *Checker) startUpTo(i int) error {
	for c.err == nil && c.started < i {
		c.started++
		j := c.started
		c.r.cur = j
		if lf := c.cached[j]; lf != nil {
			for k := range lf.Entries {
				if c.err = c.r.apply(&lf.Entries[k]); c.err != nil {
					break
				}
			}
		} else if c.keys[j] != "" {
			c.live[j] = &layerFacts{Key: c.keys[j]}
		}
	}
	return c.err
}

// Result runs the checks that need every layer and returns the findings;
// the facts of the layers read are stored in the cache.
func (c *Checker) Result() (*Result, error) {
	if !c.done {
		c.done = true
		if c.startUpTo(len(c.r.img.Layers)-1) != nil {
			return nil, c.err
		}
		c.r.finish()
		for _, lf := range c.live {
			if lf == nil {
				continue
			}
			if err := storeFacts(c.cache, lf); err != nil {
				c.r.warnings = append(c.r.warnings, fmt.Sprintf("cache: %v", err))
				break
			}
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	return c.r.result(), nil
}

// reporter collects findings and applies the per-check limit.
type reporter struct {
	o        Options
	docs     map[string]Rule
	findings []Finding
	count    map[string]int
	warnings []string
}

func newReporter(o Options) *reporter {
	docs := map[string]Rule{}
	for _, c := range Rules() {
		docs[c.ID] = c
	}
	return &reporter{o: o, docs: docs, count: map[string]int{}}
}

// enabled reports whether check id runs.
func (rep *reporter) enabled(id string) bool { return !slices.Contains(rep.o.Skip, id) }

// add reports a finding of check id; severity "" means the check's.
func (rep *reporter) add(id string, f Finding) {
	if !rep.enabled(id) {
		return
	}
	rep.count[id]++
	if rep.count[id] > rep.o.maxFindings() {
		return
	}
	doc, ok := rep.docs[id]
	if !ok {
		panic("imagecheck: unknown check " + id)
	}
	f.Type, f.ID, f.AVDID, f.Status = "image", id, id, "FAIL"
	f.Title, f.Description, f.Resolution = doc.Title, doc.Description, doc.Resolution
	if f.Severity == "" {
		f.Severity = doc.Severity
	}
	rep.findings = append(rep.findings, f)
}

// sorted returns the findings in the order of Rules (and as found within
// one check).
func (rep *reporter) sorted() []Finding {
	order := map[string]int{}
	for i, c := range Rules() {
		order[c.ID] = i
	}
	out := slices.Clone(rep.findings)
	slices.SortStableFunc(out, func(a, b Finding) int { return order[a.ID] - order[b.ID] })
	return out
}

func (rep *reporter) limitWarnings() []string {
	var out []string
	for _, c := range Rules() {
		if n := rep.count[c.ID]; n > rep.o.maxFindings() {
			out = append(out, fmt.Sprintf("%s: %d more findings not listed (limit %d)", c.ID, n-rep.o.maxFindings(), rep.o.maxFindings()))
		}
	}
	return out
}
