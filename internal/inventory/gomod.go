package inventory

import (
	"fmt"
	"io"

	"golang.org/x/mod/modfile"
)

// parseGoMod lists the modules a go.mod requires, with its replace
// directives applied. Replacements by a local directory have no version
// and are left out.
func parseGoMod(r io.Reader) ([]Package, error) {
	b, err := readLimitedBytes(r, 64<<20)
	if err != nil {
		return nil, err
	}
	mf, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing go.mod: %w", err)
	}
	replaced := map[string]*modfile.Replace{}
	for _, rep := range mf.Replace {
		replaced[rep.Old.Path+"@"+rep.Old.Version] = rep
	}
	var pkgs []Package
	for _, req := range mf.Require {
		m := req.Mod
		rep := replaced[m.Path+"@"+m.Version]
		if rep == nil {
			rep = replaced[m.Path+"@"]
		}
		if rep != nil {
			if rep.New.Version == "" {
				continue
			}
			m = rep.New
		}
		pkgs = append(pkgs, Package{
			Name:      m.Path,
			Version:   trimV(m.Version),
			Ecosystem: EcosystemGo,
			Type:      TypeGoMod,
		})
	}
	return dedupe(pkgs), nil
}
