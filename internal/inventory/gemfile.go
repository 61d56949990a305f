package inventory

import (
	"io"
	"strings"
)

// parseGemfileLock reads Gemfile.lock: in the GEM and GIT sections, the
// lines indented four spaces under "specs:" are "name (version)"; deeper
// lines are their dependency constraints. PATH gems are local and left out.
// Platform-specific versions ("1.13.10-x86_64-linux") lose the platform.
func parseGemfileLock(r io.Reader) ([]Package, error) {
	var pkgs []Package
	section := ""
	inSpecs := false
	err := eachLine(r, 64<<10, func(line string) bool {
		switch {
		case line == "":
			section, inSpecs = "", false
		case line[0] != ' ':
			section, inSpecs = strings.TrimSpace(line), false
		case strings.TrimSpace(line) == "specs:":
			inSpecs = true
		case inSpecs && (section == "GEM" || section == "GIT") && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			name, rest, ok := strings.Cut(strings.TrimSpace(line), " (")
			version, closed := strings.CutSuffix(rest, ")")
			if ok && closed && name != "" && version != "" {
				version, _, _ = strings.Cut(version, "-")
				pkgs = append(pkgs, Package{Name: name, Version: version, Ecosystem: EcosystemRubyGems, Type: TypeBundler})
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return dedupe(pkgs), nil
}
