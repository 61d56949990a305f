package version

import (
	"errors"
	"strings"
)

// composerKey is a Packagist version as Composer normalises it: an
// optional "v", one to four numbers, then an optional stability suffix
// (dev, alpha/a, beta/b, RC, stable, patch/pl/p) with optional numbers,
// then an optional "-dev". Composer compares normalised versions with
// PHP's version_compare, whose order of special forms is
// dev < alpha < beta < RC < (release) < patch. Branch names ("dev-main")
// have no order and are refused. No library for it is served here; the
// cases in testdata/Packagist-versions.txt pin it.
type composerKey struct {
	nums      [4]string
	stability int      // index in composerStability
	stabNums  []string // the numbers after the stability word
	dev       bool     // a trailing "-dev": before the version it qualifies
}

func composerRank(word string) (int, bool) {
	switch word {
	case "dev":
		return 0, true
	case "alpha", "a":
		return 1, true
	case "beta", "b":
		return 2, true
	case "rc":
		return 3, true
	case "", "stable":
		return 4, true
	case "patch", "pl", "p":
		return 5, true
	}
	return 0, false
}

func parseComposer(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v := strings.ToLower(s)
	if strings.HasPrefix(v, "dev-") {
		return nil, errors.New("a branch name has no version order")
	}
	v = strings.TrimPrefix(v, "v")
	k := composerKey{nums: [4]string{"0", "0", "0", "0"}, stability: 4}
	// numbers
	i, n := 0, 0
	for n < 4 {
		j := i
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j == i {
			break
		}
		k.nums[n] = trimZeros(v[i:j])
		n++
		i = j
		if i < len(v) && v[i] == '.' && i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9' {
			i++
			continue
		}
		break
	}
	if n == 0 {
		return nil, errors.New("no leading number")
	}
	rest := v[i:]
	if d, ok := strings.CutSuffix(rest, "dev"); ok && d != "" && (strings.HasSuffix(d, "-") || strings.HasSuffix(d, ".")) {
		k.dev = true
		rest = d[:len(d)-1]
	}
	rest = strings.TrimLeft(rest, ".-_")
	if rest != "" {
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		rank, ok := composerRank(rest[:j])
		if !ok {
			return nil, errors.New("unknown stability suffix")
		}
		k.stability = rank
		for _, p := range strings.FieldsFunc(rest[j:], func(r rune) bool { return r == '.' || r == '-' }) {
			if !isDigits(p) {
				return nil, errors.New("stability suffix followed by something other than numbers")
			}
			k.stabNums = append(k.stabNums, trimZeros(p))
		}
		if rank == 4 && rest[:j] == "" && len(k.stabNums) > 0 {
			return nil, errors.New("numbers without a stability word")
		}
	}
	if k.dev && rest == "" {
		// "1.0-dev" is the development stability of 1.0 itself.
		k.stability, k.dev = 0, false
	}
	return k, nil
}

func (k composerKey) compare(o orderKey) int {
	w := o.(composerKey)
	for i := range k.nums {
		if c := cmpDigits(k.nums[i], w.nums[i]); c != 0 {
			return c
		}
	}
	if c := sign(k.stability - w.stability); c != 0 {
		return c
	}
	for i := 0; i < len(k.stabNums) || i < len(w.stabNums); i++ {
		a, b := "0", "0"
		if i < len(k.stabNums) {
			a = k.stabNums[i]
		}
		if i < len(w.stabNums) {
			b = w.stabNums[i]
		}
		if c := cmpDigits(a, b); c != 0 {
			return c
		}
	}
	switch {
	case k.dev == w.dev:
		return 0
	case k.dev:
		return -1
	}
	return 1
}
