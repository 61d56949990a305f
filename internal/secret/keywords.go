package secret

import "slices"

// keywordIndex finds every rule's keywords in one pass over a file,
// without case: a table indexed by each position's two bytes (folded to
// lower case) names the keywords starting with them, which are then
// compared. Rules with a one-byte keyword are left out of it and always
// run their regex.
type keywordIndex struct {
	keywords [][]byte // distinct, lower-case
	rules    [][]int  // keyword → the rules using it
	// bucket maps two lower-case bytes to 1 + an index into lists, 0 for
	// none.
	bucket [1 << 16]uint16
	lists  [][]int // keyword indexes
	// indexed reports, per rule, whether its keywords are all indexed.
	indexed []bool
}

var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

func newKeywordIndex(rules []*Rule) *keywordIndex {
	ix := &keywordIndex{indexed: make([]bool, len(rules))}
	id := map[string]int{}
	for ri, r := range rules {
		if len(r.Keywords) == 0 || slices.ContainsFunc(r.Keywords, func(k string) bool { return len(k) < 2 }) {
			continue
		}
		ix.indexed[ri] = true
		for _, k := range r.Keywords {
			ki, ok := id[k]
			if !ok {
				ki = len(ix.keywords)
				id[k] = ki
				ix.keywords = append(ix.keywords, []byte(k))
				ix.rules = append(ix.rules, nil)
				key := uint16(k[0])<<8 | uint16(k[1])
				if ix.bucket[key] == 0 {
					ix.lists = append(ix.lists, nil)
					ix.bucket[key] = uint16(len(ix.lists))
				}
				b := ix.bucket[key] - 1
				ix.lists[b] = append(ix.lists[b], ki)
			}
			if !slices.Contains(ix.rules[ki], ri) {
				ix.rules[ki] = append(ix.rules[ki], ri)
			}
		}
	}
	return ix
}

// find returns, per rule, the ascending offsets in content where its
// keywords start.
func (ix *keywordIndex) find(content []byte) [][]int {
	at := make([][]int, len(ix.indexed))
	for i := 0; i+1 < len(content); i++ {
		b := ix.bucket[uint16(lowerTable[content[i]])<<8|uint16(lowerTable[content[i+1]])]
		if b == 0 {
			continue
		}
		for _, k := range ix.lists[b-1] {
			if hasPrefixFold(content[i:], ix.keywords[k]) {
				for _, r := range ix.rules[k] {
					if n := len(at[r]); n == 0 || at[r][n-1] != i {
						at[r] = append(at[r], i)
					}
				}
			}
		}
	}
	return at
}

// hasPrefixFold reports whether b starts with the lower-case prefix,
// ASCII case folded.
func hasPrefixFold(b, prefix []byte) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i, c := range prefix {
		if lowerTable[b[i]] != c {
			return false
		}
	}
	return true
}

// containsFold reports whether b contains the lower-case s, ASCII case
// folded.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if lowerTable[b[i]] == s[0] && hasPrefixFold(b[i:], []byte(s)) {
			return true
		}
	}
	return false
}
