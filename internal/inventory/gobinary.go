package inventory

import (
	"bytes"
	"debug/buildinfo"
	"io/fs"
	"regexp"
	"runtime/debug"
	"strings"
)

// goBinaryAnalyzer reads the build information the Go toolchain embeds in
// executables (runtime/debug.BuildInfo): the main module, every module
// linked in (with replacements applied) and the Go version, reported as the
// package "stdlib" like Go's vulnerability database names it.
type goBinaryAnalyzer struct{}

func (goBinaryAnalyzer) name() string   { return "gobinary" }
func (goBinaryAnalyzer) version() int   { return 1 }
func (goBinaryAnalyzer) maxSize() int64 { return 1 << 30 }
func (goBinaryAnalyzer) required(_ string, mode fs.FileMode) bool {
	return mode.IsRegular() && mode&0o111 != 0
}

// acceptHead keeps ELF, PE and Mach-O files; scripts and data are turned
// down without being read further.
func (goBinaryAnalyzer) acceptHead(h []byte) bool {
	for _, magic := range [][]byte{
		[]byte("\x7fELF"),
		[]byte("MZ"),
		{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf},
		{0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe},
		{0xca, 0xfe, 0xba, 0xbe},
	} {
		if bytes.HasPrefix(h, magic) {
			return true
		}
	}
	return false
}

func (goBinaryAnalyzer) analyze(f *file) (*fileResult, error) {
	bi, err := buildinfo.Read(f.readerAt())
	if err != nil {
		return &fileResult{}, nil // not a Go executable (or built without module support)
	}
	return &fileResult{Packages: goBuildInfoPackages(bi)}, nil
}

func goBuildInfoPackages(bi *debug.BuildInfo) []Package {
	var pkgs []Package
	add := func(m *debug.Module, main bool) {
		if m == nil || m.Path == "" {
			return
		}
		if m.Replace != nil && m.Replace.Path != "" {
			m = m.Replace
		}
		v := m.Version
		if v == "(devel)" {
			v = ""
		}
		if v == "" && !main {
			return // a local replacement: no version to match
		}
		pkgs = append(pkgs, Package{
			Name:      m.Path,
			Version:   strings.TrimPrefix(v, "v"),
			Ecosystem: EcosystemGo,
			Type:      TypeGoBinary,
			Main:      main,
		})
	}
	add(&bi.Main, true)
	for _, d := range bi.Deps {
		add(d, false)
	}
	if v := goToolchainVersion(bi.GoVersion); v != "" {
		pkgs = append(pkgs, Package{Name: "stdlib", Version: v, Ecosystem: EcosystemGo, Type: TypeGoBinary})
	}
	return pkgs
}

var goVersionRE = regexp.MustCompile(`^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?$`)

// goToolchainVersion turns "go1.22.1" into "1.22.1" and "go1.21rc2" into
// "1.21.0-rc.2", the SemVer spelling of Go's vulnerability database.
// Development builds ("devel go1.23-…") have no comparable version.
func goToolchainVersion(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ") // "go1.22.0 X:boringcrypto"
	m := goVersionRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	minor, patch := m[2], m[3]
	if minor == "" {
		minor = "0"
	}
	if patch == "" {
		patch = "0"
	}
	v := m[1] + "." + minor + "." + patch
	if m[4] != "" {
		v += "-" + m[4] + "." + m[5]
	}
	return v
}
