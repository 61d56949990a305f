package inventory

import (
	"fmt"
	"io"
	"slices"

	"github.com/BurntSushi/toml"
)

type poetryLock struct {
	Package []struct {
		Name     string   `toml:"name"`
		Version  string   `toml:"version"`
		Category string   `toml:"category"`
		Groups   []string `toml:"groups"`
	} `toml:"package"`
}

// parsePoetryLock reads poetry.lock. Development packages are those with
// category "dev" (Poetry < 1.2) or, in newer files that list groups, those
// not in the "main" group.
func parsePoetryLock(r io.Reader) ([]Package, error) {
	var lock poetryLock
	if _, err := toml.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&lock); err != nil {
		return nil, fmt.Errorf("parsing poetry.lock: %w", err)
	}
	var pkgs []Package
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" {
			continue
		}
		dev := p.Category == "dev" || (len(p.Groups) > 0 && !slices.Contains(p.Groups, "main"))
		pkgs = append(pkgs, Package{Name: p.Name, Version: p.Version, Ecosystem: EcosystemPyPI, Type: TypePoetry, Dev: dev})
	}
	return dedupe(pkgs), nil
}
