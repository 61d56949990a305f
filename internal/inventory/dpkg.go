package inventory

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// dpkg keeps its database in var/lib/dpkg/status (one paragraph per
// package); distroless images instead have one file per package under
// var/lib/dpkg/status.d/ (with *.md5sums beside them). See dpkg(1) and
// deb-control(5).
const (
	dpkgStatus    = "var/lib/dpkg/status"
	dpkgStatusDir = "var/lib/dpkg/status.d/"
)

type dpkgAnalyzer struct{}

func (dpkgAnalyzer) name() string   { return "dpkg" }
func (dpkgAnalyzer) version() int   { return 1 }
func (dpkgAnalyzer) maxSize() int64 { return 256 << 20 }
func (dpkgAnalyzer) required(p string, _ fs.FileMode) bool {
	if p == dpkgStatus {
		return true
	}
	if rest, ok := strings.CutPrefix(p, dpkgStatusDir); ok {
		return rest != "" && !strings.Contains(rest, "/") && !strings.HasSuffix(rest, ".md5sums")
	}
	return false
}

func (dpkgAnalyzer) analyze(f *file) (*fileResult, error) {
	pkgs, err := parseDpkgStatus(f.reader(), strings.HasPrefix(f.Path, dpkgStatusDir))
	if err != nil {
		return nil, err
	}
	return &fileResult{Packages: pkgs}, nil
}

// maxControlLine bounds one line of a control file. Real descriptions
// have lines of some hundred bytes.
const maxControlLine = 1 << 20

// parseDpkgStatus reads dpkg status paragraphs. Only packages whose Status
// says "installed" count; in status.d files (distroless) Status may be
// missing, and then the package is installed.
func parseDpkgStatus(r io.Reader, statusOptional bool) ([]Package, error) {
	var pkgs []Package
	err := readParagraphs(r, func(fields map[string]string) {
		p, ok := dpkgPackage(fields, statusOptional)
		if ok {
			pkgs = append(pkgs, p)
		}
	})
	return pkgs, err
}

func dpkgPackage(fields map[string]string, statusOptional bool) (Package, bool) {
	// These fields are single-line; continuation lines after them are
	// malformed and ignored.
	f := func(k string) string {
		v, _, _ := strings.Cut(fields[k], "\n")
		return strings.TrimSpace(v)
	}
	name, version := f("package"), f("version")
	if name == "" || version == "" {
		return Package{}, false
	}
	if _, ok := fields["status"]; ok || !statusOptional {
		st := f("status")
		// "want flag status": the package is present when status is
		// installed (half-configured etc. still have files on disk, but
		// dpkg and Trivy count only "installed").
		words := strings.Fields(st)
		if len(words) != 3 || words[2] != "installed" {
			return Package{}, false
		}
	}
	p := Package{
		Name:       name,
		Version:    version,
		SrcName:    name,
		SrcVersion: version,
		Arch:       f("architecture"),
		Type:       TypeDpkg,
		Maintainer: f("maintainer"),
	}
	if src := f("source"); src != "" {
		// "Source: openssl" or "Source: openssl (3.0.11-1~deb12u2)"
		n, v, hasV := strings.Cut(src, " ")
		p.SrcName = n
		if hasV {
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "(") && strings.HasSuffix(v, ")") {
				if sv := strings.TrimSpace(v[1 : len(v)-1]); sv != "" {
					p.SrcVersion = sv
				}
			}
		}
	}
	return p, true
}

// readParagraphs splits deb822 text (control files, dpkg status) into
// paragraphs of lower-cased field names. Continuation lines (starting with
// space or tab) extend the previous field; comment lines and lines that
// are neither are ignored.
func readParagraphs(r io.Reader, fn func(map[string]string)) error {
	fields := map[string]string{}
	last := ""
	flush := func() {
		if len(fields) > 0 {
			fn(fields)
			fields = map[string]string{}
		}
		last = ""
	}
	err := eachLine(r, 64<<10, func(line string) bool {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
		case line[0] == '#':
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || k == "" {
				last = ""
				break
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
		return true
	})
	if err != nil {
		return err
	}
	flush()
	return nil
}

var errLineTooLong = errors.New("line too long")

// eachLine reads r through a buffer of bufSize bytes and calls fn with
// each line, without its line ending (the last one too, even when empty
// or unterminated), until fn returns false. A line longer than
// maxControlLine stops it with an error naming the line.
func eachLine(r io.Reader, bufSize int, fn func(line string) bool) error {
	br := bufio.NewReaderSize(r, bufSize)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br, maxControlLine)
		if errors.Is(err, errLineTooLong) {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if !fn(line) || err != nil {
			return nil
		}
	}
}

// readLine returns one line without its newline. At the end of input it
// returns the last (possibly empty) line with io.EOF.
func readLine(br *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) > max {
			return "", errLineTooLong
		}
		b = append(b, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		s := strings.TrimRight(string(b), "\r\n")
		return s, err
	}
}

// dpkgCopyrightAnalyzer reads usr/share/doc/<package>/copyright for the
// licenses of Debian packages (dpkg's database records none). Only
// machine-readable copyright files (DEP-5) name licenses reliably; for
// others nothing is reported.
type dpkgCopyrightAnalyzer struct{}

func (dpkgCopyrightAnalyzer) name() string   { return "dpkg-copyright" }
func (dpkgCopyrightAnalyzer) version() int   { return 1 }
func (dpkgCopyrightAnalyzer) maxSize() int64 { return 4 << 20 }
func (dpkgCopyrightAnalyzer) required(p string, _ fs.FileMode) bool {
	rest, ok := strings.CutPrefix(p, "usr/share/doc/")
	if !ok {
		return false
	}
	pkg, f, ok := strings.Cut(rest, "/")
	return ok && pkg != "" && f == "copyright"
}

func (dpkgCopyrightAnalyzer) analyze(f *file) (*fileResult, error) {
	pkg := path.Base(path.Dir(f.Path))
	lics, err := parseDebianCopyright(f.reader())
	if err != nil {
		return nil, err
	}
	if len(lics) == 0 {
		return &fileResult{}, nil
	}
	return &fileResult{Licenses: map[string][]string{pkg: lics}}, nil
}

// parseDebianCopyright returns the license short names of a DEP-5
// copyright file, in order of first appearance.
func parseDebianCopyright(r io.Reader) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	format := false
	first := true
	err := readParagraphs(r, func(f map[string]string) {
		if first {
			first = false
			format = strings.Contains(f["format"], "copyright-format") || strings.Contains(f["format-specification"], "copyright-format")
		}
		if !format {
			return
		}
		lic, _, _ := strings.Cut(f["license"], "\n")
		lic = strings.TrimSpace(lic)
		if lic == "" || seen[lic] {
			return
		}
		seen[lic] = true
		out = append(out, lic)
	})
	return out, err
}
