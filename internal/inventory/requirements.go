package inventory

import (
	"io"
	"strings"
)

// parseRequirements reads a pip requirements file. Only exact pins
// ("name==1.2.3", "name===1.2.3") say what gets installed; ranges, URLs,
// editable installs and options (-r, -c, --hash …) are skipped.
func parseRequirements(r io.Reader) ([]Package, error) {
	var pkgs []Package
	var logical strings.Builder
	err := eachLine(r, 64<<10, func(line string) bool {
		if c, ok := strings.CutSuffix(line, `\`); ok {
			logical.WriteString(c)
			logical.WriteByte(' ')
		} else {
			logical.WriteString(line)
			if p, ok := requirementPin(logical.String()); ok {
				pkgs = append(pkgs, p)
			}
			logical.Reset()
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return dedupe(pkgs), nil
}

func requirementPin(line string) (Package, bool) {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || line[0] == '-' {
		return Package{}, false
	}
	line, _, _ = strings.Cut(line, ";") // environment markers
	// Options after the requirement ("--hash=…").
	if i := strings.Index(line, " --"); i >= 0 {
		line = line[:i]
	}
	name, version, ok := strings.Cut(line, "==")
	if !ok {
		return Package{}, false
	}
	version = strings.TrimSpace(strings.TrimPrefix(version, "="))
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = strings.TrimSpace(name[:i]) // extras
	}
	if name == "" || version == "" || strings.ContainsAny(version, " ,*<>!~") || strings.ContainsAny(name, " @/:") {
		return Package{}, false
	}
	return Package{Name: name, Version: version, Ecosystem: EcosystemPyPI, Type: TypePip}, true
}
