package inventory

import (
	"encoding/json"
	"io/fs"
	"path"
	"strings"
)

// nodeAnalyzer reads the package.json of installed npm packages:
// node_modules/<name>/package.json and node_modules/@scope/<name>/package.json
// at any depth (nested node_modules, global /usr/lib/node_modules).
// package.json files elsewhere (a project's own, test fixtures inside a
// package) are not installed packages.
type nodeAnalyzer struct{}

func (nodeAnalyzer) name() string   { return "node-pkg" }
func (nodeAnalyzer) version() int   { return 1 }
func (nodeAnalyzer) maxSize() int64 { return 8 << 20 }
func (nodeAnalyzer) required(p string, _ fs.FileMode) bool {
	dir, base := path.Split(p)
	if base != "package.json" {
		return false
	}
	parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	n := len(parts)
	switch {
	case n >= 2 && parts[n-2] == "node_modules":
		return !strings.HasPrefix(parts[n-1], "@") && !strings.HasPrefix(parts[n-1], ".")
	case n >= 3 && parts[n-3] == "node_modules":
		return strings.HasPrefix(parts[n-2], "@")
	}
	return false
}

func (nodeAnalyzer) analyze(f *file) (*fileResult, error) {
	var pj packageJSON
	if err := json.NewDecoder(f.reader()).Decode(&pj); err != nil {
		return nil, err
	}
	if pj.Name == "" || pj.Version == "" {
		return &fileResult{}, nil
	}
	return &fileResult{Packages: []Package{{
		Name:      pj.Name,
		Version:   pj.Version,
		Ecosystem: EcosystemNpm,
		Type:      TypeNodePkg,
		Licenses:  pj.licenses(),
	}}}, nil
}

type packageJSON struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// licenses understands "license": "MIT", the deprecated
// "license": {"type": "MIT"} and "licenses": [{"type": "MIT"}, …].
func (pj *packageJSON) licenses() []string {
	var out []string
	add := func(raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s != "" {
				out = append(out, s)
			}
			return
		}
		var o struct{ Type string }
		if json.Unmarshal(raw, &o) == nil && o.Type != "" {
			out = append(out, o.Type)
		}
	}
	if len(pj.License) > 0 {
		add(pj.License)
	}
	var list []json.RawMessage
	if len(pj.Licenses) > 0 && json.Unmarshal(pj.Licenses, &list) == nil {
		for _, l := range list {
			add(l)
		}
	}
	return out
}
