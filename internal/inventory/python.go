package inventory

import (
	"io"
	"io/fs"
	"path"
	"strings"
)

// pythonAnalyzer reads the metadata of installed Python distributions:
// *.dist-info/METADATA (wheels, PEP 566), *.egg-info/PKG-INFO and
// single-file *.egg-info (setuptools). Lock files are the lock-file
// analyzers' business.
type pythonAnalyzer struct{}

func (pythonAnalyzer) name() string   { return "python-metadata" }
func (pythonAnalyzer) version() int   { return 1 }
func (pythonAnalyzer) maxSize() int64 { return 16 << 20 }
func (pythonAnalyzer) required(p string, mode fs.FileMode) bool {
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == "METADATA":
		return strings.HasSuffix(dir, ".dist-info")
	case base == "PKG-INFO":
		return strings.HasSuffix(dir, ".egg-info")
	case strings.HasSuffix(base, ".egg-info"):
		return mode.IsRegular()
	}
	return false
}

func (pythonAnalyzer) analyze(f *file) (*fileResult, error) {
	p, ok, err := parsePythonMetadata(f.reader())
	if err != nil {
		return nil, err
	}
	if !ok {
		return &fileResult{}, nil
	}
	return &fileResult{Packages: []Package{p}}, nil
}

// parsePythonMetadata reads the header block of core metadata (an email
// style header: "Field: value", continuation lines indented, ended by a
// blank line).
func parsePythonMetadata(r io.Reader) (Package, bool, error) {
	var name, version, license, expr string
	var classifiers []string
	last := ""
	err := eachLine(r, 16<<10, func(line string) bool {
		if strings.TrimSpace(line) == "" {
			return false // the end of the header
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "license" {
				license += "\n" + strings.TrimSpace(line)
			}
		} else if k, v, ok := strings.Cut(line, ":"); ok {
			last = strings.ToLower(strings.TrimSpace(k))
			v = strings.TrimSpace(v)
			switch last {
			case "name":
				name = v
			case "version":
				version = v
			case "license":
				license = v
			case "license-expression":
				expr = v
			case "classifier":
				if rest, ok := strings.CutPrefix(v, "License ::"); ok {
					parts := strings.Split(rest, "::")
					classifiers = append(classifiers, strings.TrimSpace(parts[len(parts)-1]))
				}
			}
		}
		return true
	})
	if err != nil {
		return Package{}, false, err
	}
	if name == "" || version == "" {
		return Package{}, false, nil
	}
	p := Package{Name: name, Version: version, Ecosystem: EcosystemPyPI, Type: TypePythonPkg}
	switch {
	case expr != "":
		p.Licenses = []string{expr}
	case license != "" && license != "UNKNOWN" && !strings.Contains(license, "\n") && len(license) <= 100:
		p.Licenses = []string{license} // a short name, not the license text
	case len(classifiers) > 0:
		p.Licenses = classifiers
	}
	return p, true, nil
}

// pep503Name normalises a Python distribution name (PEP 503): lower case,
// runs of "-", "_" and "." become one "-".
func pep503Name(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(s) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}
