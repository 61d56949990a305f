package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

type pipfileLock struct {
	Default map[string]struct {
		Version string `json:"version"`
	} `json:"default"`
	Develop map[string]struct {
		Version string `json:"version"`
	} `json:"develop"`
}

// parsePipfileLock reads Pipfile.lock: "default" and "develop" sections of
// name → {"version": "==1.2.3"}. Entries without a pinned version (VCS,
// editable) are skipped.
func parsePipfileLock(r io.Reader) ([]Package, error) {
	var lock pipfileLock
	if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&lock); err != nil {
		return nil, fmt.Errorf("parsing Pipfile.lock: %w", err)
	}
	var pkgs []Package
	add := func(section map[string]struct {
		Version string `json:"version"`
	}, dev bool) {
		names := make([]string, 0, len(section))
		for n := range section {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v, ok := strings.CutPrefix(section[n].Version, "==")
			if !ok || v == "" {
				continue
			}
			pkgs = append(pkgs, Package{Name: n, Version: v, Ecosystem: EcosystemPyPI, Type: TypePipenv, Dev: dev})
		}
	}
	add(lock.Default, false)
	add(lock.Develop, true)
	return dedupe(pkgs), nil
}
