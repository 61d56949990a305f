package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// packageLock is package-lock.json / npm-shrinkwrap.json. Version 1 has a
// nested "dependencies" tree; versions 2 and 3 have "packages" keyed by
// install path ("node_modules/a/node_modules/b"); version 2 has both, and
// then "packages" is read.
type packageLock struct {
	LockfileVersion int                        `json:"lockfileVersion"`
	Packages        map[string]lockPackage     `json:"packages"`
	Dependencies    map[string]lockDependency1 `json:"dependencies"`
}

type lockPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Dev     bool            `json:"dev"`
	Link    bool            `json:"link"`
	License json.RawMessage `json:"license"`
}

type lockDependency1 struct {
	Version      string                     `json:"version"`
	Dev          bool                       `json:"dev"`
	Dependencies map[string]lockDependency1 `json:"dependencies"`
}

// maxLockDepth bounds the nesting of a version 1 dependency tree.
const maxLockDepth = 256

func parsePackageLock(r io.Reader) ([]Package, error) {
	var lock packageLock
	if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&lock); err != nil {
		return nil, fmt.Errorf("parsing package-lock.json: %w", err)
	}
	var pkgs []Package
	if len(lock.Packages) > 0 {
		paths := make([]string, 0, len(lock.Packages))
		for p := range lock.Packages {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			lp := lock.Packages[p]
			i := strings.LastIndex(p, "node_modules/")
			if i < 0 || lp.Link || lp.Version == "" {
				continue // the project itself, workspace folders, links to them
			}
			name := lp.Name
			if name == "" {
				name = p[i+len("node_modules/"):]
			}
			pkg := Package{Name: name, Version: lp.Version, Ecosystem: EcosystemNpm, Type: TypeNpm, Dev: lp.Dev}
			pj := packageJSON{License: lp.License}
			pkg.Licenses = pj.licenses()
			pkgs = append(pkgs, pkg)
		}
		return dedupe(pkgs), nil
	}
	var walk func(deps map[string]lockDependency1, depth int) error
	walk = func(deps map[string]lockDependency1, depth int) error {
		if depth > maxLockDepth {
			return fmt.Errorf("parsing package-lock.json: dependencies nested deeper than %d", maxLockDepth)
		}
		names := make([]string, 0, len(deps))
		for n := range deps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			d := deps[n]
			// "file:" and "link:" versions point at local folders.
			if d.Version != "" && !strings.HasPrefix(d.Version, "file:") && !strings.HasPrefix(d.Version, "link:") {
				pkgs = append(pkgs, Package{Name: n, Version: d.Version, Ecosystem: EcosystemNpm, Type: TypeNpm, Dev: d.Dev})
			}
			if err := walk(d.Dependencies, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(lock.Dependencies, 0); err != nil {
		return nil, err
	}
	return dedupe(pkgs), nil
}
