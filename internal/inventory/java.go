package inventory

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// javaAnalyzer reads Java archives (jar, war, ear and plugin variants):
// every META-INF/maven/<group>/<artifact>/pom.properties is a package;
// without one, META-INF/MANIFEST.MF or the file name say what the archive
// is. Archives inside archives (WEB-INF/lib, BOOT-INF/lib, lib/ of an ear)
// are read too, down to maxJarDepth.
type javaAnalyzer struct{}

var javaExts = map[string]bool{".jar": true, ".war": true, ".ear": true, ".par": true, ".sar": true, ".jpi": true, ".hpi": true, ".kar": true}

// Limits for reading archives: nesting depth, the size of one nested
// archive read into memory, the number of entries of one archive (the zip
// reader keeps its whole directory in memory), and the size of the small
// metadata files read from it.
const (
	maxJarDepth     = 3
	maxNestedJar    = 64 << 20
	maxJarEntries   = 100_000
	maxJarMetaBytes = 1 << 20
	// maxJarInflate bounds everything decompressed from one archive and
	// the archives in it. Zip directories may point many entries at the
	// same compressed data, so per-entry limits alone do not bound the
	// work (the "overlapping files" zip bomb).
	maxJarInflate = 256 << 20
)

// jarBudget is what is left of maxJarInflate while one archive is read.
type jarBudget struct{ bytes int64 }

var errJarBudget = fmt.Errorf("archive decompresses to more than %d bytes", maxJarInflate)

func (javaAnalyzer) name() string   { return "jar" }
func (javaAnalyzer) version() int   { return 1 }
func (javaAnalyzer) maxSize() int64 { return 1 << 30 }
func (javaAnalyzer) required(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && javaExts[strings.ToLower(path.Ext(p))]
}

func (javaAnalyzer) acceptHead(h []byte) bool {
	return bytes.HasPrefix(h, []byte("PK\x03\x04")) || bytes.HasPrefix(h, []byte("PK\x05\x06"))
}

func (javaAnalyzer) analyze(f *file) (*fileResult, error) {
	pkgs, err := parseJar(f.readerAt(), f.Size, f.Path, 0, &jarBudget{maxJarInflate})
	if err != nil {
		return nil, err
	}
	return &fileResult{Packages: pkgs}, nil
}

// parseJar lists the Maven packages of the archive at filePath.
func parseJar(ra io.ReaderAt, size int64, filePath string, depth int, budget *jarBudget) ([]Package, error) {
	n, err := zipEntryCount(ra, size)
	if err != nil {
		return nil, err
	}
	if n > maxJarEntries {
		return nil, fmt.Errorf("archive has %d entries, more than the %d read", n, maxJarEntries)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, err
	}
	if err := checkOverlap(zr); err != nil {
		return nil, err
	}
	var pkgs []Package
	seen := map[string]bool{}
	var manifest map[string]string
	for _, zf := range zr.File {
		name := zf.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			b, err := readZipFile(zf, maxJarMetaBytes, budget)
			if errors.Is(err, errJarBudget) {
				return nil, err
			}
			if err != nil {
				continue
			}
			props := parseProperties(b)
			g, a, v := props["groupId"], props["artifactId"], props["version"]
			if g == "" || a == "" || v == "" || seen[g+":"+a+"@"+v] {
				continue
			}
			seen[g+":"+a+"@"+v] = true
			pkgs = append(pkgs, mavenPackage(g, a, v, filePath))
		case name == "META-INF/MANIFEST.MF":
			b, err := readZipFile(zf, maxJarMetaBytes, budget)
			if errors.Is(err, errJarBudget) {
				return nil, err
			}
			if err == nil {
				manifest = parseManifest(b)
			}
		case javaExts[strings.ToLower(path.Ext(name))] && depth < maxJarDepth && zf.UncompressedSize64 <= maxNestedJar:
			b, err := readZipFile(zf, maxNestedJar, budget)
			if errors.Is(err, errJarBudget) {
				return nil, err
			}
			if err != nil {
				continue
			}
			inner, err := parseJar(bytes.NewReader(b), int64(len(b)), filePath+"/"+name, depth+1, budget)
			if errors.Is(err, errJarBudget) {
				return nil, err
			}
			if err != nil {
				continue // a broken nested archive does not spoil the outer one
			}
			pkgs = append(pkgs, inner...)
		}
	}
	if !ownPackageListed(pkgs, filePath) {
		if p, ok := jarIdentity(manifest, filePath); ok && !seen[p.Name+"@"+p.Version] {
			pkgs = append([]Package{p}, pkgs...)
		}
	}
	return pkgs, nil
}

func mavenPackage(group, artifact, version, filePath string) Package {
	return Package{
		Name:      group + ":" + artifact,
		Version:   version,
		Ecosystem: EcosystemMaven,
		Type:      TypeJar,
		FilePath:  filePath,
	}
}

// ownPackageListed reports whether pom.properties of the archive itself
// (rather than of archives nested in it) named a package.
func ownPackageListed(pkgs []Package, filePath string) bool {
	for _, p := range pkgs {
		if p.FilePath == filePath {
			return true
		}
	}
	return false
}

var jarFileNameRE = regexp.MustCompile(`^(.+?)-(\d[0-9A-Za-z._+-]*)$`)

// jarIdentity works out the archive's own coordinates when it has no
// pom.properties: the file name ("commons-io-2.11.0.jar") as build tools
// write it, else the manifest's Implementation-* or Bundle-* headers.
func jarIdentity(m map[string]string, filePath string) (Package, bool) {
	var artifact, version string
	base := strings.TrimSuffix(path.Base(filePath), path.Ext(filePath))
	if mm := jarFileNameRE.FindStringSubmatch(base); mm != nil {
		artifact, version = mm[1], mm[2]
	}
	bsn, _, _ := strings.Cut(m["Bundle-SymbolicName"], ";")
	bsn = strings.TrimSpace(bsn)
	if artifact == "" {
		if t := m["Implementation-Title"]; t != "" && !strings.Contains(t, " ") {
			artifact = t
		} else {
			artifact = bsn
		}
	}
	if version == "" {
		version = m["Implementation-Version"]
	}
	if version == "" {
		version = m["Bundle-Version"]
	}
	if artifact == "" || version == "" {
		return Package{}, false
	}
	group := m["Implementation-Vendor-Id"]
	if group == "" && strings.HasSuffix(bsn, "."+artifact) {
		group = strings.TrimSuffix(bsn, "."+artifact)
	}
	name := artifact
	if group != "" {
		name = group + ":" + artifact
	}
	return Package{Name: name, Version: version, Ecosystem: EcosystemMaven, Type: TypeJar, FilePath: filePath}, true
}

func readZipFile(zf *zip.File, limit int64, budget *jarBudget) ([]byte, error) {
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%s: too large", zf.Name)
	}
	if budget.bytes <= 0 {
		return nil, errJarBudget
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	lim := min(limit, budget.bytes)
	b, err := io.ReadAll(io.LimitReader(rc, lim+1))
	budget.bytes -= int64(len(b))
	switch {
	case int64(len(b)) > lim && lim < limit:
		return nil, errJarBudget
	case int64(len(b)) > lim:
		return nil, fmt.Errorf("%s: larger than %d bytes", zf.Name, limit)
	case err != nil:
		return nil, err
	}
	return b, nil
}

func readLimitedBytes(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// parseProperties reads the subset of Java properties files that
// pom.properties uses: key=value or key: value lines, # and ! comments.
func parseProperties(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), maxJarMetaBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			continue
		}
		out[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return out
}

// parseManifest reads the main section of a jar manifest: "Name: value"
// lines, continuation lines starting with one space.
func parseManifest(b []byte) map[string]string {
	out := map[string]string{}
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if line == "" {
			break // end of the main section
		}
		if line[0] == ' ' {
			if last != "" {
				out[last] += line[1:]
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			last = ""
			continue
		}
		last = strings.TrimSpace(k)
		out[last] = strings.TrimSpace(v)
	}
	return out
}

// checkOverlap refuses archives whose directory points several entries at
// the same data: no archiver writes that, zip bombs do.
func checkOverlap(zr *zip.Reader) error {
	seen := make(map[int64]bool, len(zr.File))
	for _, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil {
			continue // reported when (if) the entry is read
		}
		if seen[off] {
			return fmt.Errorf("entries %q and others share their data: not a real archive", f.Name)
		}
		seen[off] = true
	}
	return nil
}

// zipEntryCount reads the number of entries from a zip's end of central
// directory record (or its zip64 form) without reading the directory.
func zipEntryCount(ra io.ReaderAt, size int64) (uint64, error) {
	const eocdLen = 22
	tail := min(size, 65535+eocdLen)
	buf := make([]byte, tail)
	if _, err := ra.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return 0, err
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen {
		return 0, fmt.Errorf("not a zip archive: no end of central directory")
	}
	n := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if n != 0xffff {
		return n, nil
	}
	// zip64: the locator sits just before the end record and points at the
	// zip64 end record, which holds a 64-bit count.
	if i < 20 || !bytes.Equal(buf[i-20:i-16], []byte("PK\x06\x07")) {
		return n, nil
	}
	off := int64(binary.LittleEndian.Uint64(buf[i-20+8:]))
	rec := make([]byte, 56)
	if off < 0 || off+56 > size {
		return 0, fmt.Errorf("bad zip64 end of central directory offset")
	}
	if _, err := ra.ReadAt(rec, off); err != nil {
		return 0, err
	}
	if !bytes.Equal(rec[:4], []byte("PK\x06\x06")) {
		return 0, fmt.Errorf("bad zip64 end of central directory")
	}
	return binary.LittleEndian.Uint64(rec[32:]), nil
}
