package secret

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Finding is one credential found. It holds no secret: Match and the Code
// lines show the value replaced by asterisks. The field names are those of
// Trivy's JSON report (DetectedSecret).
type Finding struct {
	// Path is the file (slash-separated, relative to the scanned root or
	// image root) or the part of an image config ("config.Env").
	Path      string `json:"Target"`
	RuleID    string
	Category  string
	Severity  string
	Title     string
	StartLine int
	EndLine   int
	Code      Code
	// Match is the line where the value starts, the value masked.
	Match string
	// Layer is the image layer that added the file (image scans only).
	Layer *Layer `json:",omitempty"`
	// DeletedIn is the later layer that deleted the file, when one did:
	// the value is no longer in the image's filesystem but is still in
	// the layer that added it, for anyone who pulls the image.
	DeletedIn *Layer `json:",omitempty"`
}

// Layer names an image layer as Trivy's reports do.
type Layer struct {
	Digest    string `json:",omitempty"`
	DiffID    string `json:",omitempty"`
	CreatedBy string `json:",omitempty"`
}

// Code is the context of a finding: the lines around it, masked.
type Code struct {
	Lines []Line
}

// Line is one line of Code.
type Line struct {
	Number     int
	Content    string
	IsCause    bool
	Annotation string
	Truncated  bool
	// Highlighted repeats Content (Trivy fills it for terminals).
	Highlighted string `json:",omitempty"`
	FirstCause  bool
	LastCause   bool
}

// Limits of what one file contributes.
const (
	// DefaultMaxFileSize is the size above which a file is skipped: real
	// configuration and source files are far smaller, and scanning large
	// data files costs time without finding credentials in practice.
	DefaultMaxFileSize = 10 << 20
	// contextLines is how many lines before and after a finding Code shows.
	contextLines = 2
	// maxLineLen bounds each Code line and Match; longer lines are cut.
	maxLineLen = 200
	// binarySniff is how much of a file is looked at for a NUL byte (as
	// git does) to decide that it is binary.
	binarySniff = 8000
)

// ErrBinary and ErrTooLarge report a file ScanFile skipped.
var (
	ErrBinary   = errors.New("binary file skipped")
	ErrTooLarge = errors.New("file over the size limit skipped")
)

// Options configure a Scanner. The zero value scans with the built-in
// rules and allow rules and DefaultMaxFileSize.
type Options struct {
	// Config adds and removes rules and allow rules (a secret config
	// file, see LoadConfig); nil means the built-in set only.
	Config *Config
	// MaxFileSize is the size in bytes above which files are skipped
	// (0 = DefaultMaxFileSize).
	MaxFileSize int64
}

// Scanner finds secrets. It is safe for concurrent use.
type Scanner struct {
	rules         []*Rule
	allow         []AllowRule
	excludeBlocks []*regexp.Regexp
	keywords      *keywordIndex
	maxSize       int64
	bufs          sync.Pool
}

// New builds a scanner from the built-in rules and o.Config.
func New(o Options) (*Scanner, error) {
	rules := BuiltinRules()
	allow := BuiltinAllowRules()
	var blocks []*regexp.Regexp
	if c := o.Config; c != nil {
		var err error
		rules, allow, err = c.apply(rules, allow)
		if err != nil {
			return nil, err
		}
		blocks = c.ExcludeBlocks
	}
	for _, r := range rules {
		if err := r.compile(); err != nil {
			return nil, err
		}
	}
	s := &Scanner{rules: rules, allow: allow, excludeBlocks: blocks, maxSize: o.MaxFileSize, keywords: newKeywordIndex(rules)}
	if s.maxSize <= 0 {
		s.maxSize = DefaultMaxFileSize
	}
	return s, nil
}

// Rules returns the rules the scanner runs, in order.
func (s *Scanner) Rules() []*Rule { return slices.Clone(s.rules) }

// MaxFileSize is the size above which files are skipped.
func (s *Scanner) MaxFileSize() int64 { return s.maxSize }

// ScanFile reads r (the content of the file at path) and returns the
// secrets in it. A file larger than the limit is not read past the limit
// and gives ErrTooLarge; a binary file (a NUL byte near the start) gives
// ErrBinary. Other errors are read errors.
func (s *Scanner) ScanFile(path string, r io.Reader) ([]Finding, error) {
	bp := s.getBuf()
	defer s.bufs.Put(bp)
	buf := bytes.NewBuffer((*bp)[:0])
	n, err := io.Copy(buf, io.LimitReader(r, s.maxSize+1))
	*bp = buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if n > s.maxSize {
		return nil, ErrTooLarge
	}
	content := buf.Bytes()
	if IsBinary(content) {
		return nil, ErrBinary
	}
	return s.ScanBytes(path, content), nil
}

func (s *Scanner) getBuf() *[]byte {
	if p, ok := s.bufs.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

// IsBinary reports whether content looks binary: a NUL byte in its first
// 8000 bytes.
func IsBinary(content []byte) bool {
	return bytes.IndexByte(content[:min(len(content), binarySniff)], 0) >= 0
}

// hit is one value a rule found: its byte range in the content.
type hit struct {
	rule         *Rule
	start, end   int // the secret value
	mstart, mend int // the whole match, which gives the lines
	order        int // rule position, for deduplication
}

// ScanBytes returns the secrets in content, the text of the file at path.
// It does not apply the size and binary limits of ScanFile.
func (s *Scanner) ScanBytes(path string, content []byte) []Finding {
	hits := s.hits(path, content)
	if len(hits) == 0 {
		return nil
	}
	return findings(path, content, hits)
}

// Mask returns text with every value the rules find in it replaced by
// asterisks, for showing text (a history line) that may hold secrets.
func (s *Scanner) Mask(path, text string) string {
	hits := s.hits(path, []byte(text))
	if len(hits) == 0 {
		return text
	}
	return string(mask([]byte(text), hits))
}

// hits finds the values in content, allow rules and exclude blocks
// applied, one per value, in order.
func (s *Scanner) hits(path string, content []byte) []hit {
	for i := range s.allow {
		if s.allow[i].pathOnly() && s.allow[i].allows(path, nil) {
			return nil
		}
	}
	at := s.keywords.find(content)
	var hits []hit
	for order, r := range s.rules {
		if r.Path != nil && !r.Path.MatchString(path) {
			continue
		}
		prefiltered := s.keywords.indexed[order]
		if (prefiltered && len(at[order]) == 0) || pathAllowed(r.AllowRules, path) {
			continue
		}
		if r.alsoNeeds != "" && !containsFold(content, r.alsoNeeds) {
			continue
		}
		for _, m := range r.find(content, at[order], prefiltered) {
			start, end := m[2*r.secretIdx], m[2*r.secretIdx+1]
			if start < 0 || start == end {
				continue
			}
			value := content[start:end]
			if r.valid != nil && !r.valid(value) {
				continue
			}
			if valueAllowed(r.AllowRules, path, value) || valueAllowed(s.allow, path, value) {
				continue
			}
			ms, me := m[0], m[1]
			for ms < start && (content[ms] == '\n' || content[ms] == '\r') {
				ms++
			}
			for me > end && (content[me-1] == '\n' || content[me-1] == '\r') {
				me--
			}
			hits = append(hits, hit{rule: r, start: start, end: end, mstart: ms, mend: me, order: order})
		}
	}
	if len(hits) == 0 {
		return nil
	}
	return dedupe(s.dropExcluded(content, hits))
}

func pathAllowed(rules []AllowRule, path string) bool {
	for i := range rules {
		if rules[i].pathOnly() && rules[i].allows(path, nil) {
			return true
		}
	}
	return false
}

func valueAllowed(rules []AllowRule, path string, value []byte) bool {
	for i := range rules {
		if !rules[i].pathOnly() && rules[i].allows(path, value) {
			return true
		}
	}
	return false
}

// dropExcluded removes hits inside the exclude blocks of the config.
func (s *Scanner) dropExcluded(content []byte, hits []hit) []hit {
	if len(s.excludeBlocks) == 0 {
		return hits
	}
	var blocks [][]int
	for _, re := range s.excludeBlocks {
		blocks = append(blocks, re.FindAllIndex(content, -1)...)
	}
	return slices.DeleteFunc(hits, func(h hit) bool {
		for _, b := range blocks {
			if h.start >= b[0] && h.end <= b[1] {
				return true
			}
		}
		return false
	})
}

// dedupe keeps, of hits whose values overlap, the one of the earliest
// rule, and orders the rest by position. Hits are taken in clusters of
// overlapping values, so a file with many values stays linear.
func dedupe(hits []hit) []hit {
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].start != hits[j].start {
			return hits[i].start < hits[j].start
		}
		return hits[i].order < hits[j].order
	})
	var kept []hit
	for i := 0; i < len(hits); {
		j, end := i+1, hits[i].end
		for j < len(hits) && hits[j].start < end {
			end = max(end, hits[j].end)
			j++
		}
		cluster := hits[i:j]
		sort.SliceStable(cluster, func(a, b int) bool { return cluster[a].order < cluster[b].order })
		from := len(kept)
		for _, h := range cluster {
			if !slices.ContainsFunc(kept[from:], func(k hit) bool { return h.start < k.end && k.start < h.end }) {
				kept = append(kept, h)
			}
		}
		sort.Slice(kept[from:], func(a, b int) bool { return kept[from+a].start < kept[from+b].start })
		i = j
	}
	return kept
}

// findings masks every hit in a copy of content and builds the findings
// from the masked copy only, so no output can carry a value.
func findings(path string, content []byte, hits []hit) []Finding {
	masked := mask(content, hits)
	lines := lineStarts(masked)
	out := make([]Finding, 0, len(hits))
	for _, h := range hits {
		first := lineOf(lines, h.mstart)
		last := lineOf(lines, h.mend-1)
		f := Finding{
			Path:      path,
			RuleID:    h.rule.ID,
			Category:  h.rule.Category,
			Severity:  h.rule.Severity,
			Title:     h.rule.Title,
			StartLine: first + 1,
			EndLine:   last + 1,
		}
		from, to := max(first-contextLines, 0), min(last+contextLines, len(lines)-1)
		for i := from; i <= to; i++ {
			text, cut := lineText(masked, lines, i)
			l := Line{Number: i + 1, Content: text, Truncated: cut, Highlighted: text,
				IsCause: i >= first && i <= last, FirstCause: i == first, LastCause: i == last}
			f.Code.Lines = append(f.Code.Lines, l)
		}
		// Match is the line where the value starts, unless that line is
		// nothing but the mask (a key's body): then the match's first line
		// (the key's BEGIN line) says more.
		f.Match, _ = lineText(masked, lines, lineOf(lines, h.start))
		if f.Match = strings.TrimSpace(f.Match); strings.Trim(f.Match, "*") == "" {
			f.Match, _ = lineText(masked, lines, first)
			f.Match = strings.TrimSpace(f.Match)
		}
		out = append(out, f)
	}
	return out
}

// mask returns a copy of content with the hits' values replaced by
// asterisks (line breaks kept, so lines stay lines).
func mask(content []byte, hits []hit) []byte {
	masked := bytes.Clone(content)
	for _, h := range hits {
		for i := h.start; i < h.end; i++ {
			if masked[i] != '\n' && masked[i] != '\r' {
				masked[i] = '*'
			}
		}
	}
	return masked
}

// lineStarts returns the offset at which each line starts.
func lineStarts(b []byte) []int {
	starts := []int{0}
	for i, c := range b {
		if c == '\n' && i+1 < len(b) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOf returns the 0-based line holding offset off.
func lineOf(starts []int, off int) int {
	return sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1
}

// lineText returns line i without its line ending, cut to maxLineLen
// bytes (on a rune boundary), and whether it was cut.
func lineText(b []byte, starts []int, i int) (string, bool) {
	end := len(b)
	if i+1 < len(starts) {
		end = starts[i+1]
	}
	line := bytes.TrimRight(b[starts[i]:end], "\r\n")
	cut := false
	if len(line) > maxLineLen {
		n := maxLineLen
		for n > 0 && !utf8.RuneStart(line[n]) {
			n--
		}
		line, cut = line[:n], true
	}
	return strings.ToValidUTF8(string(line), "\uFFFD"), cut
}
