package inventory

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

type pnpmLock struct {
	LockfileVersion any                    `yaml:"lockfileVersion"`
	Packages        map[string]pnpmPackage `yaml:"packages"`
}

type pnpmPackage struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	Dev     bool   `yaml:"dev"`
}

// parsePnpmLock reads pnpm-lock.yaml. Package keys changed over the
// format's versions: "/name/1.0.0_peer" (5.x), "/name@1.0.0(peer)" (6.x),
// "name@1.0.0" (9.x). Version 9 no longer marks development packages.
func parsePnpmLock(r io.Reader) ([]Package, error) {
	b, err := readLimitedBytes(r, 64<<20)
	if err != nil {
		return nil, err
	}
	var lock pnpmLock
	if err := yaml.Unmarshal(b, &lock); err != nil {
		return nil, fmt.Errorf("parsing pnpm-lock.yaml: %w", err)
	}
	major := 0
	switch v := lock.LockfileVersion.(type) {
	case string:
		f, _ := strconv.ParseFloat(v, 64)
		major = int(f)
	case float64:
		major = int(v)
	case int:
		major = v
	}
	keys := make([]string, 0, len(lock.Packages))
	for k := range lock.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pkgs []Package
	for _, k := range keys {
		p := lock.Packages[k]
		name, version := pnpmKey(k, major)
		if p.Name != "" {
			name = p.Name
		}
		if p.Version != "" {
			version = p.Version
		}
		if name == "" || version == "" || strings.Contains(version, ":") || strings.Contains(version, "/") {
			continue // tarball, git and local packages carry no registry version
		}
		pkgs = append(pkgs, Package{Name: name, Version: version, Ecosystem: EcosystemNpm, Type: TypePnpm, Dev: p.Dev})
	}
	return dedupe(pkgs), nil
}

func pnpmKey(k string, major int) (name, version string) {
	k = strings.TrimPrefix(k, "/")
	if i := strings.IndexByte(k, '('); i >= 0 {
		k = k[:i] // peer dependency suffix
	}
	if major > 0 && major < 6 {
		i := strings.LastIndexByte(k, '/')
		if i <= 0 {
			return "", ""
		}
		name, version = k[:i], k[i+1:]
		if j := strings.IndexByte(version, '_'); j >= 0 {
			version = version[:j]
		}
		return name, version
	}
	i := strings.LastIndexByte(k, '@')
	if i <= 0 {
		return "", ""
	}
	return k[:i], k[i+1:]
}
