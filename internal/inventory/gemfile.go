package inventory

import (
	"bufio"
	"errors"
	"fmt"
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
	br := bufio.NewReaderSize(r, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br, maxControlLine)
		if errors.Is(err, errLineTooLong) {
			return nil, fmt.Errorf("line %d of Gemfile.lock: %w", lineNo, err)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
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
		if errors.Is(err, io.EOF) {
			break
		}
	}
	return dedupe(pkgs), nil
}
