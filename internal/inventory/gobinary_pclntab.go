package inventory

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The Go linker writes a function table (the "pclntab") into every
// executable for the runtime's stack traces; stripping (-ldflags=-s -w,
// strip(1)) removes the symbol table and DWARF but never this table. Since
// Go 1.16 it starts with a header followed by funcnametab: the names of
// every function compiled in and of every function inlined into one,
// NUL-separated. A function's name starts with its package's import path
// ("golang.org/x/net/html.Parse", "net/http.(*Client).Do"), so the table
// tells which packages have code in the binary — what Go vulnerability
// records name in ecosystem_specific.imports. Only that name table is
// read; the rest of the pclntab (line tables, file names) is never loaded.

// Limits against hostile files: the name table read into memory, and the
// places in a file without a named pclntab section that are tried as one.
const (
	maxFuncNameTable = 128 << 20
	maxPclntabTries  = 16
	pclntabScanChunk = 1 << 20
)

// The header magics of the formats with a funcnametab (Go 1.16, 1.18 and
// 1.20 onwards); Go 1.2–1.15 binaries (0xfffffffb) interleave names with
// the function records and are not read.
const (
	pclntab116 = 0xfffffffa
	pclntab118 = 0xfffffff0
	pclntab120 = 0xfffffff1
	pclntab12  = 0xfffffffb
)

var (
	errNoPclntab  = errors.New("the binary has no Go function table")
	errOldPclntab = errors.New("the binary's function table predates Go 1.16")
)

// goBinaryPackages returns the import paths of the packages with code in
// the Go executable r (size bytes), sorted. An error says why the list
// could not be read; it never stems from a panic, whatever r holds.
func goBinaryPackages(r io.ReaderAt, size int64) (pkgs []string, err error) {
	defer func() {
		// The object file readers of the standard library are meant not to
		// panic on bad input; should one still do, the binary's package list
		// is unknown rather than the scan lost.
		if p := recover(); p != nil {
			pkgs, err = nil, errors.New("the binary's headers are malformed")
		}
	}()
	names, err := funcNameTable(r, size)
	if err != nil {
		return nil, err
	}
	return packagesOfFuncNames(names), nil
}

// region is a byte range of a file.
type region struct{ off, size int64 }

// funcNameTable finds the pclntab and returns its funcnametab.
func funcNameTable(r io.ReaderAt, size int64) ([]byte, error) {
	sect, named, err := pclntabSection(r, size)
	if err != nil {
		return nil, err
	}
	if named {
		return readFuncNames(r, sect)
	}
	// No section by name (PE files, section headers removed): look for a
	// header that leads to a plausible name table.
	var found []byte
	lastErr, tries := errNoPclntab, 0
	err = scanMagic(r, sect, func(off int64) bool {
		tries++
		names, err := readFuncNames(r, region{off, sect.off + sect.size - off})
		switch {
		case err == nil && hasFuncName(names, "runtime.main"):
			found = names
			return false
		case errors.Is(err, errOldPclntab):
			lastErr = err
		}
		return tries < maxPclntabTries
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, lastErr
	}
	return found, nil
}

// hasFuncName reports whether a funcnametab holds name.
func hasFuncName(table []byte, name string) bool {
	return bytes.HasPrefix(table, []byte(name+"\x00")) || bytes.Contains(table, []byte("\x00"+name+"\x00"))
}

// pclntabSection returns the pclntab section (named true) or, when the
// format names none, the part of the file to search for one.
func pclntabSection(r io.ReaderAt, size int64) (region, bool, error) {
	var head [4]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return region{}, false, errNoPclntab
	}
	whole := region{0, size}
	inFile := func(off, n uint64) (region, bool) {
		if off > uint64(size) || n > uint64(size)-off || n == 0 {
			return region{}, false
		}
		return region{int64(off), int64(n)}, true
	}
	switch {
	case bytes.HasPrefix(head[:], []byte("\x7fELF")):
		f, err := elf.NewFile(r)
		if err != nil {
			return region{}, false, errors.New("the binary's ELF headers are malformed")
		}
		for _, name := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
			if s := f.Section(name); s != nil && s.Type != elf.SHT_NOBITS {
				if reg, ok := inFile(s.Offset, s.Size); ok {
					return reg, true, nil
				}
			}
		}
		return whole, false, nil
	case bytes.HasPrefix(head[:], []byte("MZ")):
		f, err := pe.NewFile(r)
		if err != nil {
			return region{}, false, errors.New("the binary's PE headers are malformed")
		}
		if s := f.Section(".rdata"); s != nil {
			if reg, ok := inFile(uint64(s.Offset), uint64(s.Size)); ok {
				return reg, false, nil
			}
		}
		return whole, false, nil
	default:
		f, err := macho.NewFile(r)
		if err != nil {
			return whole, false, nil // a universal binary or another format: search
		}
		if s := f.Section("__gopclntab"); s != nil {
			if reg, ok := inFile(uint64(s.Offset), s.Size); ok {
				return reg, true, nil
			}
		}
		return whole, false, nil
	}
}

// scanMagic calls try with the offset of each place in reg that starts
// like a pclntab header, until try returns false.
func scanMagic(r io.ReaderAt, reg region, try func(off int64) bool) error {
	buf := make([]byte, pclntabScanChunk+8)
	for pos := reg.off; pos < reg.off+reg.size; pos += pclntabScanChunk {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), reg.off+reg.size-pos)], pos)
		if n < 8 {
			if err != nil && err != io.EOF {
				return fmt.Errorf("reading the binary: %w", err)
			}
			return nil
		}
		chunk := buf[:n]
		for i := 0; i+8 <= len(chunk) && i < pclntabScanChunk; i++ {
			// 0xfffffff? little- or big-endian, then pad, pad, min LC, pointer size.
			c := chunk[i : i+8]
			le := c[1] == 0xff && c[2] == 0xff && c[3] == 0xff && c[0]&0xf0 == 0xf0
			be := c[0] == 0xff && c[1] == 0xff && c[2] == 0xff && c[3]&0xf0 == 0xf0
			if (!le && !be) || c[4] != 0 || c[5] != 0 || (c[7] != 4 && c[7] != 8) {
				continue
			}
			if !try(pos + int64(i)) {
				return nil
			}
		}
	}
	return nil
}

// readFuncNames parses the pclntab header at reg.off and returns its
// funcnametab.
func readFuncNames(r io.ReaderAt, reg region) ([]byte, error) {
	var h [8]byte
	if reg.size < 8 {
		return nil, errNoPclntab
	}
	if _, err := r.ReadAt(h[:], reg.off); err != nil {
		return nil, errNoPclntab
	}
	var order binary.ByteOrder = binary.LittleEndian
	magic := order.Uint32(h[:])
	if magic&0xfffffff0 != 0xfffffff0 {
		order = binary.BigEndian
		magic = order.Uint32(h[:])
	}
	ptrSize := int64(h[7])
	if h[4] != 0 || h[5] != 0 || (ptrSize != 4 && ptrSize != 8) {
		return nil, errNoPclntab
	}
	// Words after the first 8 bytes: nfunc, nfiles, [textStart,]
	// funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset.
	var nameWord int
	switch magic {
	case pclntab116:
		nameWord = 2
	case pclntab118, pclntab120:
		nameWord = 3
	case pclntab12:
		return nil, errOldPclntab
	default:
		return nil, errNoPclntab
	}
	words := make([]byte, ptrSize*int64(nameWord+5))
	if reg.size < 8+int64(len(words)) {
		return nil, errNoPclntab
	}
	if _, err := r.ReadAt(words, reg.off+8); err != nil {
		return nil, errNoPclntab
	}
	word := func(i int) uint64 {
		if ptrSize == 4 {
			return uint64(order.Uint32(words[i*4:]))
		}
		return order.Uint64(words[i*8:])
	}
	start, end := word(nameWord), word(nameWord+1)
	headerSize := uint64(8 + len(words))
	if start < headerSize || end <= start || end > uint64(reg.size) {
		return nil, errors.New("the binary's function table header is inconsistent")
	}
	for i := nameWord + 1; i < nameWord+4; i++ { // cu ≤ file ≤ pc ≤ pcln offsets
		if word(i) > word(i+1) {
			return nil, errors.New("the binary's function table header is inconsistent")
		}
	}
	if end-start > maxFuncNameTable {
		return nil, fmt.Errorf("the binary's function name table is over %d MiB", maxFuncNameTable>>20)
	}
	// A name table starts with a name: no control bytes, then a NUL. Checked
	// on a few bytes before the whole table is read.
	var peek [4096]byte
	n, _ := r.ReadAt(peek[:min(uint64(len(peek)), end-start)], reg.off+int64(start))
	first, _, found := bytes.Cut(peek[:n], []byte{0})
	if len(first) == 0 || (!found && n == len(peek)) || bytes.ContainsFunc(first, func(c rune) bool { return c < 0x20 }) {
		return nil, errors.New("the binary's function name table is malformed")
	}
	names := make([]byte, end-start)
	if _, err := r.ReadAt(names, reg.off+int64(start)); err != nil {
		return nil, errors.New("the binary's function name table is cut short")
	}
	return names, nil
}

// packagesOfFuncNames returns the sorted, distinct packages the function
// names of a funcnametab belong to. Names are looked at in place: only a
// package not seen before costs an allocation.
func packagesOfFuncNames(table []byte) []string {
	seen := map[string]bool{}
	var out []string
	var last []byte // names of one package mostly come together
	add := func(raw []byte) {
		if bytes.Equal(raw, last) {
			return
		}
		last = raw
		if _, ok := seen[string(raw)]; ok {
			return
		}
		path := unescapeSymbolPath(raw)
		ok := !strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' })
		seen[string(raw)] = ok // an escaped space, quote or control byte: no import path holds one
		if ok {
			out = append(out, path)
		}
	}
	var prev []byte // the package of the name before
	for len(table) > 0 {
		name, rest, _ := bytes.Cut(table, []byte{0})
		table = rest
		// prev + "." + a rest without '/': prev's again, without parsing.
		if n := len(prev); n > 0 && len(name) > n && name[n] == '.' && bytes.HasPrefix(name, prev) && bytes.IndexByte(name[n:], '/') < 0 {
			continue
		}
		pkg, inner := funcPackage(name)
		prev = pkg
		if pkg != nil {
			add(pkg)
			if inner != nil {
				add(inner)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// funcPackage returns the import path, still escaped, of the package a
// function symbol name belongs to, nil for linker-made and C symbols. The
// compiler writes the path with '.' in its last element, '%', '"',
// spaces, control and non-ASCII bytes escaped as %xx
// ("gopkg.in/yaml%2ev3.Unmarshal"), so the path ends at the first '.'
// after its last '/'. What follows the path may hold other paths: type
// arguments ("slices.Sort[go.shape.[]a.com/b.T]"), and the unexported
// methods of another package promoted by embedding
// ("p.(*T).database/sql.close", "p.T.database/sql.close"). Brackets and
// parentheses are cut off first; for the last form, which no syntax tells
// from a path with a dotted middle element ("gopkg.in/src-d/go-git.v4/x"),
// inner is the other reading, the path cut at the dot: a list that holds a
// path no package has costs nothing, one that lacks a package would hide
// its advisories.
func funcPackage(name []byte) (pkg, inner []byte) {
	for _, prefix := range []string{"type:.eq.", "type..eq.", "type:.hash.", "type..hash."} {
		if p, ok := bytes.CutPrefix(name, []byte(prefix)); ok {
			name = p
			break
		}
	}
	for _, linker := range []string{"go:", "go.", "type:", "type.."} { // linker-made: go:buildid, go.shape.…
		if bytes.HasPrefix(name, []byte(linker)) {
			return nil, nil
		}
	}
	if i := bytes.IndexAny(name, "[("); i >= 0 {
		name = name[:i]
	}
	slash := bytes.LastIndexByte(name, '/')
	dot := bytes.IndexByte(name[slash+1:], '.')
	if dot <= 0 {
		return nil, nil
	}
	pkg = name[:slash+1+dot]
	if slash < 0 && isCSymbolSuffix(name[dot+1:]) {
		return nil, nil // a C function of a cgo binary split by the C compiler: x_cgo_init.cold
	}
	if len(pkg) > 1024 || slash == 0 || bytes.ContainsAny(pkg, " \t\r\n\"") {
		return nil, nil
	}
	domain := 0 // the first element may be a domain, also in the standard library's vendor tree
	if bytes.HasPrefix(pkg, []byte("vendor/")) {
		domain = len("vendor/")
	}
	if first := bytes.IndexByte(pkg[domain:], '/') + domain; first > domain {
		if i := bytes.IndexByte(pkg[first:], '.'); i > 0 {
			inner = pkg[:first+i]
		}
	}
	return pkg, inner
}

// isCSymbolSuffix reports the suffixes a C compiler gives the parts of
// functions it splits or clones ("cold", "part.0", "constprop.1").
func isCSymbolSuffix(s []byte) bool {
	for _, suffix := range []string{"cold", "part", "constprop", "isra", "lto_priv", "localalias"} {
		if rest, ok := bytes.CutPrefix(s, []byte(suffix)); ok && (len(rest) == 0 || rest[0] == '.') {
			return true
		}
	}
	return false
}

// unescapeSymbolPath undoes the %xx escapes of a symbol's package path;
// a malformed escape is kept as it is.
func unescapeSymbolPath(p []byte) string {
	if bytes.IndexByte(p, '%') < 0 {
		return string(p)
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if hi, lo := unhex(p[i+1]), unhex(p[i+2]); hi >= 0 && lo >= 0 {
				b.WriteByte(byte(hi<<4 | lo))
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
