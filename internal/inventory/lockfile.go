package inventory

import (
	"io"
	"io/fs"
	"path"
	"strings"
)

// lockAnalyzer reads one lock-file format. Lock files describe what a
// build will install; they are read for directory and repository targets
// (dir:, git:), never inside images, where what is installed is read from
// the installed packages' own metadata (like Trivy and Syft do).
type lockAnalyzer struct {
	id    string
	rev   int
	bases []string
	parse func(r io.Reader) ([]Package, error)
}

func (a lockAnalyzer) name() string   { return a.id }
func (a lockAnalyzer) version() int   { return a.rev }
func (a lockAnalyzer) maxSize() int64 { return 64 << 20 }
func (a lockAnalyzer) required(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	base := path.Base(p)
	for _, b := range a.bases {
		if base == b {
			// Lock files that packages ship inside installed dependency
			// trees describe those packages' development, not this project.
			return !strings.Contains("/"+p, "/node_modules/") && !strings.Contains("/"+p, "/vendor/")
		}
	}
	return false
}

func (a lockAnalyzer) analyze(f *file) (*fileResult, error) {
	pkgs, err := a.parse(f.reader())
	if err != nil {
		return nil, err
	}
	return &fileResult{Packages: pkgs}, nil
}

// lockAnalyzers are the lock-file formats read for dir: and git: targets.
func lockAnalyzers() []analyzer {
	return []analyzer{
		lockAnalyzer{id: "gomod", rev: 1, bases: []string{"go.mod"}, parse: parseGoMod},
		lockAnalyzer{id: "npm-lock", rev: 1, bases: []string{"package-lock.json", "npm-shrinkwrap.json"}, parse: parsePackageLock},
		lockAnalyzer{id: "yarn-lock", rev: 1, bases: []string{"yarn.lock"}, parse: parseYarnLock},
		lockAnalyzer{id: "pnpm-lock", rev: 1, bases: []string{"pnpm-lock.yaml"}, parse: parsePnpmLock},
		lockAnalyzer{id: "requirements", rev: 1, bases: []string{"requirements.txt"}, parse: parseRequirements},
		lockAnalyzer{id: "poetry-lock", rev: 1, bases: []string{"poetry.lock"}, parse: parsePoetryLock},
		lockAnalyzer{id: "pipfile-lock", rev: 1, bases: []string{"Pipfile.lock"}, parse: parsePipfileLock},
		lockAnalyzer{id: "cargo-lock", rev: 1, bases: []string{"Cargo.lock"}, parse: parseCargoLock},
		lockAnalyzer{id: "gemfile-lock", rev: 1, bases: []string{"Gemfile.lock"}, parse: parseGemfileLock},
		lockAnalyzer{id: "composer-lock", rev: 1, bases: []string{"composer.lock"}, parse: parseComposerLock},
	}
}

// dedupe keeps one package per (name, version); a package is only "dev"
// when every occurrence is. Packages without a name or version, or with
// control characters in them (possible in JSON and YAML strings,
// impossible in any registry), are dropped.
func dedupe(pkgs []Package) []Package {
	idx := map[string]int{}
	var out []Package
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || hasControl(p.Name) || hasControl(p.Version) {
			continue
		}
		k := p.Name + "@" + p.Version
		if i, ok := idx[k]; ok {
			out[i].Dev = out[i].Dev && p.Dev
			continue
		}
		idx[k] = len(out)
		out = append(out, p)
	}
	return out
}

// trimV drops the "v" some ecosystems put before version numbers
// ("v1.2.3" → "1.2.3"), as advisories spell versions without it.
func trimV(v string) string {
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}
