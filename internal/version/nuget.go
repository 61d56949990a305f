package version

import (
	"errors"
	"strings"
)

// nugetKey is a NuGet version (NuGet.Versioning's NuGetVersion): one to
// four dot-separated numbers (missing ones are 0, leading zeros allowed),
// an optional SemVer 2.0 pre-release after "-" whose labels compare
// case-insensitively, and build metadata after "+" that does not count.
// No library for it is served here, so this is our own code; the cases
// in testdata/NuGet-versions.txt pin it.
type nugetKey struct {
	nums [4]string // digit strings without leading zeros
	pre  []string  // pre-release labels, lower-cased; nil for a release
}

func parseNuGet(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	rest, _, _ := strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(rest, "-")
	parts := strings.Split(core, ".")
	if len(parts) > 4 {
		return nil, errors.New("more than four numbers")
	}
	var k nugetKey
	for i := range k.nums {
		k.nums[i] = "0"
	}
	for i, p := range parts {
		if !isDigits(p) {
			return nil, errors.New("the numbers before the label must be digits")
		}
		k.nums[i] = trimZeros(p)
	}
	if hasPre {
		if pre == "" {
			return nil, errors.New("empty pre-release label")
		}
		for _, l := range strings.Split(pre, ".") {
			if l == "" || strings.Trim(l, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") != "" {
				return nil, errors.New("pre-release labels are letters, digits and hyphens")
			}
			k.pre = append(k.pre, strings.ToLower(l))
		}
	}
	return k, nil
}

func (k nugetKey) compare(o orderKey) int {
	w := o.(nugetKey)
	for i := range k.nums {
		if c := cmpDigits(k.nums[i], w.nums[i]); c != 0 {
			return c
		}
	}
	switch {
	case k.pre == nil && w.pre == nil:
		return 0
	case k.pre == nil:
		return 1
	case w.pre == nil:
		return -1
	}
	return comparePrerelease(k.pre, w.pre)
}

// comparePrerelease applies SemVer 2.0 §11 to dot-separated labels:
// numeric labels compare as numbers and below alphanumeric ones, which
// compare as strings; a shorter list of equal labels is lower.
func comparePrerelease(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		an, bn := isDigits(a[i]), isDigits(b[i])
		switch {
		case an && bn:
			if c := cmpDigits(trimZeros(a[i]), trimZeros(b[i])); c != 0 {
				return c
			}
		case an:
			return -1
		case bn:
			return 1
		default:
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return sign(len(a) - len(b))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// trimZeros drops leading zeros of a digit string, keeping one digit.
func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}

// cmpDigits compares two digit strings without leading zeros as numbers
// of any length (no overflow).
func cmpDigits(a, b string) int {
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}
