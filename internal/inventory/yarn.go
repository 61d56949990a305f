package inventory

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseYarnLock reads yarn.lock: the classic (v1) format of Yarn 1, or the
// YAML format of Yarn 2+ ("berry", recognised by its __metadata entry).
func parseYarnLock(r io.Reader) ([]Package, error) {
	b, err := readLimitedBytes(r, 64<<20)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte("\n__metadata:")) || bytes.HasPrefix(b, []byte("__metadata:")) {
		return parseYarnBerry(b)
	}
	return parseYarnClassic(b)
}

// parseYarnClassic reads the Yarn 1 format: an unindented line of
// descriptors ("a@^1.0.0", "a@~1.1":), then indented fields, among them
// version "1.1.3".
func parseYarnClassic(b []byte) ([]Package, error) {
	var pkgs []Package
	name := ""
	err := eachLine(bytes.NewReader(b), 4096, func(line string) bool {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case line[0] != ' ' && strings.HasSuffix(trimmed, ":"):
			first, _, _ := strings.Cut(strings.TrimSuffix(trimmed, ":"), ",")
			name = yarnDescriptorName(strings.Trim(strings.TrimSpace(first), `"`))
		case name != "" && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "    "):
			k, v, ok := strings.Cut(trimmed, " ")
			if ok && (k == "version" || k == "version:") {
				pkgs = append(pkgs, Package{Name: name, Version: strings.Trim(strings.TrimSpace(v), `"`), Ecosystem: EcosystemNpm, Type: TypeYarn})
				name = ""
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return dedupe(pkgs), nil
}

// yarnDescriptorName returns the package name of a descriptor
// ("@babel/core@^7.0.0" → "@babel/core"), or "" for local ones (file:,
// link:, portal:, workspace:).
func yarnDescriptorName(d string) string {
	i := strings.LastIndex(d, "@")
	if i <= 0 {
		return ""
	}
	rng := d[i+1:]
	for _, local := range []string{"file:", "link:", "portal:", "workspace:"} {
		if strings.HasPrefix(rng, local) {
			return ""
		}
	}
	if n, _, ok := strings.Cut(d[:i], "@npm:"); ok { // alias form "a@npm:b@1"
		return n
	}
	return d[:i]
}

type yarnBerryEntry struct {
	Version    string `yaml:"version"`
	Resolution string `yaml:"resolution"`
}

// parseYarnBerry reads the Yarn 2+ format. The name comes from the
// resolution ("lodash@npm:4.17.21"); workspace, link, portal, file and
// patch resolutions are the project's own or duplicates and are skipped.
func parseYarnBerry(b []byte) ([]Package, error) {
	var doc map[string]yarnBerryEntry
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parsing yarn.lock: %w", err)
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pkgs []Package
	for _, k := range keys {
		if k == "__metadata" {
			continue
		}
		e := doc[k]
		i := strings.Index(e.Resolution[min(1, len(e.Resolution)):], "@")
		if i < 0 || e.Version == "" {
			continue
		}
		i++
		name, proto := e.Resolution[:i], e.Resolution[i+1:]
		if !strings.HasPrefix(proto, "npm:") {
			continue
		}
		pkgs = append(pkgs, Package{Name: name, Version: e.Version, Ecosystem: EcosystemNpm, Type: TypeYarn})
	}
	return dedupe(pkgs), nil
}
