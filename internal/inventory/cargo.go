package inventory

import (
	"fmt"
	"io"

	"github.com/BurntSushi/toml"
)

type cargoLock struct {
	Package []struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
		Source  string `toml:"source"`
	} `toml:"package"`
}

// parseCargoLock reads Cargo.lock. Crates without a source are the
// workspace's own members and are left out.
func parseCargoLock(r io.Reader) ([]Package, error) {
	var lock cargoLock
	if _, err := toml.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&lock); err != nil {
		return nil, fmt.Errorf("parsing Cargo.lock: %w", err)
	}
	var pkgs []Package
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" || p.Source == "" {
			continue
		}
		pkgs = append(pkgs, Package{Name: p.Name, Version: p.Version, Ecosystem: EcosystemCrates, Type: TypeCargo})
	}
	return dedupe(pkgs), nil
}
