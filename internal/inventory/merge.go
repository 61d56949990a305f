package inventory

import (
	"cmp"
	"fmt"
	"path"
	"slices"
)

// layerIndex is a layer's findings indexed for merging.
type layerIndex struct {
	files   map[string][]fileResult // by path
	deleted map[string]bool         // whiteouts and removed paths
	opaque  map[string]bool         // directories emptied of lower content ("." = root)
	dirs    map[string]bool         // directories replacing files of the same path
	// listed holds, per path and analyzer, the identities of the packages
	// the file lists (built when first needed).
	listed map[string]map[string]bool
}

func indexLayer(r *layerResult) *layerIndex {
	li := &layerIndex{files: map[string][]fileResult{}, deleted: map[string]bool{}, opaque: map[string]bool{}, dirs: map[string]bool{}}
	for _, f := range r.Files {
		li.files[f.Path] = append(li.files[f.Path], f)
	}
	for _, p := range r.Whiteouts {
		li.deleted[p] = true
	}
	for _, p := range r.Removed {
		li.deleted[p] = true
	}
	for _, p := range r.Opaque {
		li.opaque[p] = true
	}
	for _, p := range r.Shadowed {
		li.dirs[p] = true
	}
	return li
}

// hides reports whether the layer hides the version of p that lower
// layers have: p or a directory above it is whited out, or a directory
// above it is opaque.
func (li *layerIndex) hides(p string) bool {
	if li.dirs[p] {
		return true
	}
	if len(li.deleted) == 0 && len(li.opaque) == 0 {
		return false
	}
	if li.deleted[p] || li.opaque["."] {
		return true
	}
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if li.deleted[d] || li.opaque[d] {
			return true
		}
	}
	return false
}

// placed is a file of the final filesystem and the layer it is from.
type placed struct {
	layer   int
	results []fileResult
}

// merge combines per-layer findings, bottom layer first, into the
// inventory of the final filesystem. layers describe the image's layers
// (nil for a directory scan, whose one "layer" has no identity).
func merge(results []*layerResult, layers []Layer) *Inventory {
	idx := make([]*layerIndex, len(results))
	final := map[string]*placed{}
	inv := &Inventory{}
	for i, r := range results {
		li := indexLayer(r)
		idx[i] = li
		for p := range final {
			if li.hides(p) {
				delete(final, p)
			}
		}
		for p, rs := range li.files {
			final[p] = &placed{layer: i, results: rs}
		}
		for _, w := range r.Warnings {
			inv.Warnings = append(inv.Warnings, layerPrefix(layers, i)+w)
		}
	}

	paths := make([]string, 0, len(final))
	for p := range final {
		paths = append(paths, p)
	}
	slices.Sort(paths)

	n := 0
	for _, p := range paths {
		for _, r := range final[p].results {
			n += len(r.Packages)
		}
	}
	inv.Packages = make([]Package, 0, n)
	releases := map[string]*release{}
	licenses := map[string][]string{}
	for _, p := range paths {
		pl := final[p]
		for _, r := range pl.results {
			if r.Error != "" {
				inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s%s: %s: %s", layerPrefix(layers, pl.layer), p, r.Analyzer, r.Error))
				continue
			}
			if r.Release != nil {
				releases[p] = r.Release
			}
			for name, l := range r.Licenses {
				licenses[name] = l
			}
			for _, pkg := range r.Packages {
				if layers != nil {
					origin := originLayer(idx, pl.layer, p, r.Analyzer, pkg)
					l := layers[origin]
					pkg.Layer = &l
				}
				pkg.FilePath = cmp.Or(pkg.FilePath, p)
				inv.Packages = append(inv.Packages, pkg)
			}
		}
	}
	inv.OS = detectOS(releases)
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if p.Type == TypeDpkg && len(p.Licenses) == 0 {
			p.Licenses = licenses[p.Name]
		}
	}
	finalize(inv.Packages, inv.OS)
	sortPackages(inv.Packages)
	return inv
}

func layerPrefix(layers []Layer, i int) string {
	if layers == nil {
		return ""
	}
	l := layers[i]
	id := l.Digest
	if id == "" {
		id = l.DiffID
	}
	return fmt.Sprintf("layer %d (%s): ", i+1, id)
}

// originLayer finds the layer a package arrived in. A package database is
// rewritten by every layer that installs something, so the layer of the
// final file is only where the database last changed. Walking down from
// there, each older version of the same file that still lists the package
// moves the origin down; a version without it, or a whiteout in between,
// ends the walk (the package was installed again after that).
func originLayer(idx []*layerIndex, top int, p, analyzer string, pkg Package) int {
	origin := top
	if idx[top].hides(p) {
		return origin // the file was recreated from scratch in this layer
	}
	for j := top - 1; j >= 0; j-- {
		if _, ok := idx[j].files[p]; ok {
			if !idx[j].lists(p, analyzer, pkg) {
				break
			}
			origin = j
		}
		if idx[j].hides(p) {
			break
		}
	}
	return origin
}

func pkgIdentity(analyzer string, p *Package) string {
	return analyzer + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Arch + "\x00" + p.FilePath
}

// lists reports whether the layer's version of file p, read by analyzer,
// lists the package.
func (li *layerIndex) lists(p, analyzer string, pkg Package) bool {
	if li.listed == nil {
		li.listed = map[string]map[string]bool{}
	}
	set, ok := li.listed[p]
	if !ok {
		set = map[string]bool{}
		for _, r := range li.files[p] {
			for i := range r.Packages {
				set[pkgIdentity(r.Analyzer, &r.Packages[i])] = true
			}
		}
		li.listed[p] = set
	}
	return set[pkgIdentity(analyzer, &pkg)]
}
