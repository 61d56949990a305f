package inventory

import (
	"bytes"
	"debug/buildinfo"
	"io/fs"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
)

// goBinaryAnalyzer reads the build information the Go toolchain embeds in
// executables (runtime/debug.BuildInfo): the main module, every module
// linked in (with replacements applied) and the Go version, reported as the
// package "stdlib" like Go's vulnerability database names it. Each comes
// with the packages of it the binary holds code of (GoCode), read from the
// binary's function table, which stripping keeps.
type goBinaryAnalyzer struct{}

func (goBinaryAnalyzer) name() string   { return "gobinary" }
func (goBinaryAnalyzer) version() int   { return 2 }
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
	code, err := goBinaryPackages(f.readerAt(), f.Size)
	return &fileResult{Packages: goBuildInfoPackages(bi, goCodeByModule(bi, code, err))}, nil
}

// goCodeByModule sorts a binary's packages (or the error of reading them)
// by the module that provides them, keyed by module path; the packages of
// no module are the standard library's, under "stdlib". A replaced
// module's packages are named by the replacement's path, the name its
// advisories use.
func goCodeByModule(bi *debug.BuildInfo, pkgs []string, err error) map[string]*GoCode {
	out := map[string]*GoCode{}
	mods := map[string]string{} // module path → the path it is reported as
	for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
		if m == nil || m.Path == "" {
			continue
		}
		as := m.Path
		if m.Replace != nil && m.Replace.Path != "" {
			as = m.Replace.Path
		}
		mods[m.Path] = as
		out[as] = &GoCode{}
	}
	out["stdlib"] = &GoCode{}
	if err != nil {
		for _, c := range out {
			c.Unread = err.Error()
		}
		return out
	}
	for _, p := range pkgs {
		if p == "main" && bi.Path != "" {
			p = bi.Path // the program's own package, named main in its symbols
		}
		mod, as := "stdlib", "stdlib"
		for q := p; q != ""; {
			if a, ok := mods[q]; ok {
				mod, as = q, a
				break
			}
			i := strings.LastIndexByte(q, '/')
			if i < 0 {
				break
			}
			q = q[:i]
		}
		if mod != "stdlib" && as != mod {
			p = as + strings.TrimPrefix(p, mod)
		}
		out[as].Packages = append(out[as].Packages, p)
	}
	for _, c := range out {
		slices.Sort(c.Packages)
	}
	return out
}

func goBuildInfoPackages(bi *debug.BuildInfo, code map[string]*GoCode) []Package {
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
			GoCode:    code[m.Path],
		})
	}
	add(&bi.Main, true)
	for _, d := range bi.Deps {
		add(d, false)
	}
	if v := goToolchainVersion(bi.GoVersion); v != "" {
		pkgs = append(pkgs, Package{Name: "stdlib", Version: v, Ecosystem: EcosystemGo, Type: TypeGoBinary, GoCode: code["stdlib"]})
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
