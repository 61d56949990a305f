package inventory

import (
	"encoding/json"
	"fmt"
	"io"
)

type composerPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	License json.RawMessage `json:"license"`
}

type composerLock struct {
	Packages    []composerPackage `json:"packages"`
	PackagesDev []composerPackage `json:"packages-dev"`
}

// parseComposerLock reads composer.lock: "packages" and "packages-dev".
func parseComposerLock(r io.Reader) ([]Package, error) {
	var lock composerLock
	if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&lock); err != nil {
		return nil, fmt.Errorf("parsing composer.lock: %w", err)
	}
	var pkgs []Package
	add := func(list []composerPackage, dev bool) {
		for _, p := range list {
			if p.Name == "" || p.Version == "" {
				continue
			}
			pkg := Package{Name: p.Name, Version: trimV(p.Version), Ecosystem: EcosystemPackagist, Type: TypeComposer, Dev: dev}
			var lics []string
			if json.Unmarshal(p.License, &lics) == nil {
				pkg.Licenses = lics
			} else {
				var s string
				if json.Unmarshal(p.License, &s) == nil && s != "" {
					pkg.Licenses = []string{s}
				}
			}
			pkgs = append(pkgs, pkg)
		}
	}
	add(lock.Packages, false)
	add(lock.PackagesDev, true)
	return dedupe(pkgs), nil
}
