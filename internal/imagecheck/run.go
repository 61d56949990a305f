package imagecheck

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// Bounds on what one image may make the checker hold.
const (
	// maxPaths bounds the paths tracked across all layers; real images
	// have well under 500 000 (a full Debian with toolchains ~150 000).
	maxPaths = 2_000_000
	// maxWantedFile bounds the size of a file read for its content
	// (passwd, package databases); dpkg status of large images is ~5 MB.
	maxWantedFile = 32 << 20
	// maxRPMDatabase bounds an rpm database read for its package names.
	// The checker spills it to a temporary file, but the scan's shared
	// walk holds what the checker reads of a file once more for the
	// inventory, so it is held in memory for a moment; real databases
	// are 5–100 MB.
	maxRPMDatabase = 256 << 20
)

// node is one path of the merged filesystem.
type node struct {
	layer int
	typ   image.EntryType
	mode  fs.FileMode
	size  int64
}

// wantedFile is the latest content of a file the checks read (for an rpm
// database, the installed size of its packages instead).
type wantedFile struct {
	layer     int
	data      []byte
	installed int64
}

// dbVersion is one layer's version of a package database file.
type dbVersion struct {
	layer int
	names map[string]bool
}

// layerWaste is what later layers deleted or replaced of one layer's files.
type layerWaste struct {
	bytes   int64
	files   int
	biggest []wasted      // the largest few, largest first
	by      map[int]int64 // deleting layer → bytes
}

type wasted struct {
	path string
	size int64
}

// cacheAdd is a package-manager cache file a layer added.
type cacheAdd struct {
	kind, dir, path string
	size            int64
}

// liveSecret is a secret found in a layer's file, still to learn whether a
// later layer deletes the file.
type liveSecret struct {
	f     secret.Finding
	layer int
	path  string
}

type run struct {
	img        *image.Image
	o          Options
	rep        *reporter
	steps      []Step
	createdBy  []string // history lines, secrets masked
	layerStep  []int    // history index of each layer, -1 when unknown
	nodes      map[string]*node
	kids       map[string]map[string]struct{}
	cur        int
	wanted     map[string]*wantedFile
	dbVersions map[string][]dbVersion
	waste      []layerWaste
	caches     [][]cacheAdd
	secrets    []liveSecret
	secretsAt  map[string][]int // path → indexes in secrets
	deletedIn  map[int]int      // index in secrets → layer that deleted the file
	allSecrets []secret.Finding
	stats      secret.Stats
	warnings   []string
	walkWarn   int
	head       [8000]byte // the start of the file being read
	buf        []byte     // the file being scanned for secrets
}

func newRun(img *image.Image, o Options) *run {
	r := &run{
		img: img, o: o, rep: newReporter(o),
		nodes: map[string]*node{}, kids: map[string]map[string]struct{}{},
		wanted: map[string]*wantedFile{}, dbVersions: map[string][]dbVersion{},
		waste: make([]layerWaste, len(img.Layers)), caches: make([][]cacheAdd, len(img.Layers)),
		deletedIn: map[int]int{}, secretsAt: map[string][]int{},
	}
	masker := o.Secrets
	if masker == nil {
		// Secret scanning is off, but history lines shown in findings
		// are still masked.
		masker, _ = secret.New(secret.Options{})
	}
	for i, h := range img.Config.History {
		r.steps = append(r.steps, ParseHistory(h.CreatedBy))
		r.createdBy = append(r.createdBy, masker.Mask(secret.HistoryTarget(i), h.CreatedBy))
	}
	r.layerStep = make([]int, len(img.Layers))
	var nonEmpty []int
	for i, h := range img.Config.History {
		if !h.EmptyLayer {
			nonEmpty = append(nonEmpty, i)
		}
	}
	for i := range r.layerStep {
		r.layerStep[i] = -1
		if len(nonEmpty) == len(img.Layers) {
			r.layerStep[i] = nonEmpty[i]
		}
	}
	if len(img.Config.History) > 0 && len(nonEmpty) != len(img.Layers) {
		r.warnings = append(r.warnings, fmt.Sprintf("the history has %d entries that made layers but the image has %d layers; findings name layers without their history lines", len(nonEmpty), len(img.Layers)))
	}
	return r
}

// layer describes layer i for a finding.
func (r *run) layer(i int) *Layer {
	if i < 0 || i >= len(r.img.Layers) {
		return nil
	}
	l := r.img.Layers[i]
	out := &Layer{Digest: l.Digest, DiffID: l.DiffID}
	if s := r.layerStep[i]; s >= 0 {
		out.CreatedBy = r.createdBy[s]
	}
	return out
}

// stepLayer describes the layer history entry s made, or only its
// created_by line when it made none.
func (r *run) stepLayer(s int) *Layer {
	for i, hs := range r.layerStep {
		if hs == s {
			return r.layer(i)
		}
	}
	return &Layer{CreatedBy: r.createdBy[s]}
}

// layerName is "layer N (digest)" for messages.
func (r *run) layerName(i int) string {
	return "layer " + r.img.Layers[i].Name()
}

// readLayer walks a layer, giving each entry to visit and each problem
// of the tar to warn.
func readLayer(ctx context.Context, l *image.Layer, visit func(*image.Entry, io.Reader) error, warn func(string)) error {
	rc, err := l.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	err = image.Walk(rc, func(e *image.Entry, content io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return visit(e, content)
	}, warn)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading layer %s: %w", l.Name(), err)
	}
	return nil
}

// walkWarning notes a problem of layer r.cur's tar (at most 20 listed).
func (r *run) walkWarning(s string) {
	if r.walkWarn < 20 {
		r.warnings = append(r.warnings, fmt.Sprintf("%s: %s", r.layerName(r.cur), s))
	}
	r.walkWarn++
}

// link records p as a child of its parent directory.
func (r *run) link(p string) {
	for {
		parent := path.Dir(p)
		k := r.kids[parent]
		if k == nil {
			k = map[string]struct{}{}
			r.kids[parent] = k
		}
		if _, ok := k[p]; ok {
			return
		}
		k[p] = struct{}{}
		if parent == "." {
			return
		}
		p = parent
	}
}

// remove deletes p and what is below it from the merged filesystem, as a
// whiteout of the current layer does: entries the current layer itself
// added stay. The bytes of removed files count as waste of the
// layers that added them, and their secrets as deleted by this layer.
func (r *run) remove(p string) {
	for c := range r.kids[p] {
		r.remove(c)
	}
	n, ok := r.nodes[p]
	if ok && n.layer == r.cur {
		return
	}
	if len(r.kids[p]) > 0 {
		return // entries of the current layer live below
	}
	delete(r.kids, p)
	if k := r.kids[path.Dir(p)]; k != nil {
		delete(k, p)
	}
	if !ok {
		return
	}
	delete(r.nodes, p)
	delete(r.wanted, p)
	if n.typ != image.TypeFile || n.layer >= r.cur {
		return
	}
	r.waste[n.layer].add(p, n.size, r.cur)
	for _, i := range r.secretsAt[p] {
		if _, done := r.deletedIn[i]; !done && r.secrets[i].layer == n.layer {
			r.deletedIn[i] = r.cur
		}
	}
}

func (w *layerWaste) add(p string, size int64, by int) {
	w.bytes += size
	w.files++
	if w.by == nil {
		w.by = map[int]int64{}
	}
	w.by[by] += size
	w.biggest = append(w.biggest, wasted{p, size})
	sort.SliceStable(w.biggest, func(i, j int) bool { return w.biggest[i].size > w.biggest[j].size })
	if len(w.biggest) > 3 {
		w.biggest = w.biggest[:3]
	}
}

// wantsContent reports whether a check reads the file's content.
func wantsContent(p string) bool {
	switch p {
	case "etc/passwd", "etc/group", "etc/shadow", "etc/master.passwd",
		"etc/os-release", "usr/lib/os-release", dpkgStatus, apkInstalled:
		return true
	}
	return strings.HasPrefix(p, dpkgStatusD+"/") && !strings.HasSuffix(p, ".md5sums")
}

func (r *run) result() *Result {
	res := &Result{Misconfigurations: r.rep.sorted(), Secrets: r.allSecrets, SecretStats: r.stats}
	res.Warnings = append(r.warnings, r.rep.limitWarnings()...)
	if r.walkWarn > 20 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d more layer warnings not listed", r.walkWarn-20))
	}
	return res
}
