package advisory

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unsafe"
)

// The DB stores advisories in a compact binary form of our own rather
// than JSON: a lookup must decode a package's advisories in a couple of
// microseconds. Strings are length-prefixed; numbers are varints; times
// are Unix nanoseconds (0 = zero time). Decoding copies the stored bytes
// once and points every string into that copy, so a lookup allocates
// once for all its text. The layout is versioned by SchemaVersion.

type encoder struct{ b []byte }

func (e *encoder) uint(n uint64) { e.b = binary.AppendUvarint(e.b, n) }
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) bytes(p []byte) {
	e.uint(uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *encoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uint(0)
		return
	}
	e.b = binary.AppendVarint(e.b, t.UnixNano())
}
func (e *encoder) float(f float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f)) }

func (e *encoder) severities(ss []Severity) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(string(s.Type))
		e.str(s.Value)
		e.float(s.Score)
		e.str(string(s.Level))
		e.str(s.Source)
		e.str(s.Record)
	}
}

// counts are the numbers of list elements of one encoded advisory,
// written first so a decoder can allocate each kind once per lookup.
type counts struct{ strs, refs, sevs, affs, ranges, events int }

func countsOf(a *Advisory, affected []Affected) counts {
	c := counts{strs: len(a.Aliases) + len(a.Upstream) + len(a.Related), refs: len(a.References), sevs: len(a.Severity), affs: len(affected)}
	for i := range affected {
		af := &affected[i]
		c.strs += len(af.Versions)
		c.sevs += len(af.Severity)
		c.ranges += len(af.Ranges)
		for _, r := range af.Ranges {
			c.events += len(r.Events)
		}
	}
	return c
}

func (c *counts) add(o counts) {
	c.strs += o.strs
	c.refs += o.refs
	c.sevs += o.sevs
	c.affs += o.affs
	c.ranges += o.ranges
	c.events += o.events
}

func (e *encoder) counts(c counts) {
	for _, n := range []int{c.strs, c.refs, c.sevs, c.affs, c.ranges, c.events} {
		e.uint(uint64(n))
	}
}

func (e *encoder) advisory(a *Advisory, affected []Affected) {
	e.counts(countsOf(a, affected))
	e.str(a.ID)
	e.str(a.SchemaVersion)
	e.time(a.Modified)
	e.time(a.Published)
	e.time(a.Withdrawn)
	e.strs(a.Aliases)
	e.strs(a.Upstream)
	e.strs(a.Related)
	e.str(a.Summary)
	e.str(a.Details)
	e.uint(uint64(len(a.References)))
	for _, r := range a.References {
		e.str(r.Type)
		e.str(r.URL)
	}
	e.severities(a.Severity)
	e.uint(uint64(len(affected)))
	for i := range affected {
		af := &affected[i]
		e.str(af.Ecosystem)
		e.str(af.Name)
		e.str(af.PURL)
		e.uint(uint64(len(af.Ranges)))
		for _, r := range af.Ranges {
			e.str(string(r.Type))
			e.str(r.Repo)
			e.uint(uint64(len(r.Events)))
			for _, ev := range r.Events {
				e.str(string(ev.Kind))
				e.str(ev.Version)
			}
		}
		e.strs(af.Versions)
		e.severities(af.Severity)
		e.str(string(af.Status))
		e.bytes(af.EcosystemSpecific)
		e.bytes(af.DatabaseSpecific)
	}
}

// encodeAdvisory encodes a with the given affected entries (all of its
// own, or those of one package).
func encodeAdvisory(a *Advisory, affected []Affected) []byte {
	var e encoder
	e.advisory(a, affected)
	return e.b
}

// encodeList encodes advisories already encoded by encodeAdvisory as one
// value: the totals of their counts (so a lookup sizes every list it
// decodes from the first bytes, in one pass), their number, then each
// length-prefixed.
func encodeList(encoded [][]byte) []byte {
	var total counts
	for _, p := range encoded {
		h := decoder{buf: p}
		total.add(h.header())
	}
	var e encoder
	e.counts(total)
	e.uint(uint64(len(encoded)))
	for _, p := range encoded {
		e.bytes(p)
	}
	return e.b
}

var errCorrupt = errors.New("stored advisory is corrupt")

// decoder reads from buf, which the caller owns and never changes: the
// strings it returns share its memory.
type decoder struct {
	buf []byte
	off int
	err error
	// arenas the lists of the advisories being decoded are cut from
	strArena []string
	refArena []Reference
	sevArena []Severity
	affArena []Affected
	rngArena []Range
	evArena  []Event
}

// take cuts n elements from an arena (allocating when it runs short,
// which only a corrupt count can cause).
func take[T any](arena *[]T, n int) []T {
	if n > len(*arena) {
		return make([]T, n)
	}
	out := (*arena)[:n:n]
	*arena = (*arena)[n:]
	return out
}

// header reads the counts of one advisory.
func (d *decoder) header() counts {
	return counts{strs: d.count(1), refs: d.count(2), sevs: d.count(13), affs: d.count(9), ranges: d.count(3), events: d.count(2)}
}

// reserve allocates the arenas for advisories with these total counts.
func (d *decoder) reserve(c counts) {
	d.strArena = make([]string, c.strs)
	d.refArena = make([]Reference, c.refs)
	d.sevArena = make([]Severity, c.sevs)
	d.affArena = make([]Affected, c.affs)
	d.rngArena = make([]Range, c.ranges)
	d.evArena = make([]Event, c.events)
}

// uint reads a varint; one-byte values (nearly every length and count)
// take the fast path. After an error the fast paths may read on: what
// they read stays inside the buffer and is thrown away with the error.
func (d *decoder) uint() uint64 {
	if off := d.off; off < len(d.buf) {
		if b := d.buf[off]; b < 0x80 {
			d.off = off + 1
			return uint64(b)
		}
	}
	return d.uintSlow()
}

func (d *decoder) uintSlow() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.buf[d.off:])
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.off += k
	return n
}

// count reads a length and checks that at least min bytes per element
// remain, so a corrupt length cannot ask for a huge allocation.
func (d *decoder) count(min int) int {
	n := d.uint()
	if rem := uint64(len(d.buf) - d.off); n > rem || n*uint64(min) > rem {
		d.err = errCorrupt
		return 0
	}
	return int(n)
}

func (d *decoder) raw() []byte {
	n := d.uint()
	if n > uint64(len(d.buf)-d.off) {
		d.err = errCorrupt
		return nil
	}
	if n == 0 {
		return nil
	}
	end := d.off + int(n)
	p := d.buf[d.off:end:end]
	d.off = end
	return p
}

// str reads a string; one shorter than 128 bytes (nearly all but
// details and long URLs) takes the fast path.
func (d *decoder) str() string {
	if off := d.off; off < len(d.buf) {
		if n := int(d.buf[off]); n < 0x80 && n < len(d.buf)-off {
			d.off = off + 1 + n
			return unsafe.String(unsafe.SliceData(d.buf[off+1:]), n)
		}
	}
	return d.strSlow()
}

func (d *decoder) strSlow() string {
	p := d.raw()
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(&p[0], len(p))
}

func (d *decoder) strs() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ss := take(&d.strArena, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	n, k := binary.Varint(d.buf[d.off:])
	if k <= 0 {
		d.err = errCorrupt
		return time.Time{}
	}
	d.off += k
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (d *decoder) float() float64 {
	if d.err != nil || len(d.buf)-d.off < 8 {
		d.err = errCorrupt
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.buf[d.off:]))
	d.off += 8
	return f
}

func (d *decoder) severities() []Severity {
	n := d.count(13)
	if n == 0 {
		return nil
	}
	ss := take(&d.sevArena, n)
	for i := range ss {
		s := &ss[i]
		s.Type = SeverityType(d.str())
		s.Value = d.str()
		s.Score = d.float()
		s.Level = Level(d.str())
		s.Source = d.str()
		s.Record = d.str()
	}
	return ss
}

func (d *decoder) advisory(a *Advisory) {
	a.ID = d.str()
	a.SchemaVersion = d.str()
	a.Modified = d.time()
	a.Published = d.time()
	a.Withdrawn = d.time()
	a.Aliases = d.strs()
	a.Upstream = d.strs()
	a.Related = d.strs()
	a.Summary = d.str()
	a.Details = d.str()
	if n := d.count(2); n > 0 {
		a.References = take(&d.refArena, n)
		for i := range a.References {
			r := &a.References[i]
			r.Type = d.str()
			r.URL = d.str()
		}
	}
	a.Severity = d.severities()
	if n := d.count(9); n > 0 {
		a.Affected = take(&d.affArena, n)
		for i := range a.Affected {
			af := &a.Affected[i]
			af.Ecosystem = d.str()
			af.Name = d.str()
			af.PURL = d.str()
			if nr := d.count(3); nr > 0 {
				af.Ranges = take(&d.rngArena, nr)
				for j := range af.Ranges {
					r := &af.Ranges[j]
					r.Type = RangeType(d.str())
					r.Repo = d.str()
					if ne := d.count(2); ne > 0 {
						r.Events = take(&d.evArena, ne)
						for k := range r.Events {
							ev := &r.Events[k]
							ev.Kind = EventKind(d.str())
							ev.Version = d.str()
						}
					}
				}
			}
			af.Versions = d.strs()
			af.Severity = d.severities()
			af.Status = FixStatus(d.str())
			af.EcosystemSpecific = d.raw()
			af.DatabaseSpecific = d.raw()
		}
	}
}

// decodeAdvisory decodes one advisory from stored bytes (copied first).
func decodeAdvisory(stored []byte) (Advisory, error) {
	d := decoder{buf: append([]byte(nil), stored...)}
	var a Advisory
	d.reserve(d.header())
	d.advisory(&a)
	if d.err == nil && d.off != len(d.buf) {
		d.err = errCorrupt
	}
	return a, d.err
}

// minAdvisory is the size of the smallest encoded advisory in a list:
// its length, the six counts and thirteen empty fields.
const minAdvisory = 20

// decodeList decodes a value written by encodeList (copied first) in one
// pass: the totals at its head size the arenas, so a lookup allocates
// each kind of list once.
func decodeList(stored []byte) ([]Advisory, error) {
	d := decoder{buf: append([]byte(nil), stored...)}
	d.reserve(d.header())
	n := d.count(minAdvisory)
	if d.err != nil {
		return nil, d.err
	}
	out := make([]Advisory, n)
	whole := d.buf
	for i := range out {
		size := d.count(1)
		if d.err != nil {
			return nil, d.err
		}
		end := d.off + size
		d.buf = whole[:end]
		d.header()
		d.advisory(&out[i])
		if d.err == nil && d.off != end {
			d.err = errCorrupt
		}
		if d.err != nil {
			return nil, d.err
		}
		d.buf = whole
	}
	if d.off != len(d.buf) {
		return nil, errCorrupt
	}
	return out, nil
}
