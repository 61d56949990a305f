// Package version orders package versions the way each ecosystem does
// (dpkg, apk, RPM, SemVer, node-semver, PEP 440, Maven, RubyGems, NuGet,
// Composer). It is pure: no I/O, no global state.
//
// Parse turns a version string of an ecosystem into a Version; versions of
// one ordering compare with Version.Compare. An ecosystem string may carry a
// release suffix as OSV writes it ("Debian:12", "Alpine:v3.19",
// "Ubuntu:Pro:22.04:LTS"): only the part before the first colon chooses the
// ordering. A version the ordering cannot read is an error wrapping
// ErrInvalidVersion, never a silent guess.
package version

import (
	"errors"
	"fmt"
	"strings"
)

// Ecosystem names as OSV spells them (the `affected[].package.ecosystem`
// field without its release suffix).
const (
	Debian     = "Debian"
	Ubuntu     = "Ubuntu"
	Alpine     = "Alpine"
	Wolfi      = "Wolfi"
	Chainguard = "Chainguard"
	RedHat     = "Red Hat"
	AlmaLinux  = "AlmaLinux"
	Rocky      = "Rocky Linux"
	SUSE       = "SUSE"
	OpenSUSE   = "openSUSE"
	Mageia     = "Mageia"
	Go         = "Go"
	PyPI       = "PyPI"
	Npm        = "npm"
	Maven      = "Maven"
	RubyGems   = "RubyGems"
	CratesIO   = "crates.io"
	NuGet      = "NuGet"
	Packagist  = "Packagist"
)

// Ordering names a version ordering (a comparison algorithm). Several
// ecosystems share one (Debian and Ubuntu use dpkg's).
type Ordering string

// The orderings this package implements.
const (
	Dpkg       Ordering = "dpkg"     // Debian policy §5.6.12, as dpkg --compare-versions
	Apk        Ordering = "apk"      // apk-tools' version.c
	RPM        Ordering = "rpm"      // rpmvercmp with epoch, ~ and ^
	SemVer     Ordering = "semver"   // SemVer 2.0 precedence (OSV SEMVER ranges, crates.io)
	GoModule   Ordering = "go"       // SemVer with Go's spellings (v prefix, go1.21rc2, +incompatible)
	NodeSemver Ordering = "npm"      // node-semver
	PEP440     Ordering = "pep440"   // PyPA version specifiers
	MavenOrder Ordering = "maven"    // Maven's ComparableVersion
	Gem        Ordering = "rubygems" // Gem::Version
	NuGetOrder Ordering = "nuget"    // NuGet SemVer 2.0 with a fourth number, case-insensitive labels
	Composer   Ordering = "composer" // Composer / PHP version_compare
)

// Sentinel errors; test with errors.Is.
var (
	// ErrUnsupportedEcosystem: no ordering is known for the ecosystem.
	ErrUnsupportedEcosystem = errors.New("unsupported ecosystem")
	// ErrInvalidVersion: the string is not a version of the ordering.
	ErrInvalidVersion = errors.New("invalid version")
)

// Version is a parsed version. The zero Version is not valid; get one
// from Parse or ParseOrdering.
type Version struct {
	ord Ordering
	raw string
	key orderKey
}

// orderKey is what each ordering's parsed form implements: compare
// with another value of the same ordering.
type orderKey interface {
	compare(other orderKey) int
}

// String returns the version as it was given to Parse.
func (v Version) String() string { return v.raw }

// Ordering returns the ordering the version was parsed with.
func (v Version) Ordering() Ordering { return v.ord }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than
// w. Both must come from the same ordering; versions of different
// orderings are not orderKey, and Compare then orders them by ordering
// name (never 0) so that sorting stays total — callers never mix them.
func (v Version) Compare(w Version) int {
	if v.ord != w.ord || v.key == nil || w.key == nil {
		if c := strings.Compare(string(v.ord), string(w.ord)); c != 0 {
			return c
		}
		return strings.Compare(v.raw, w.raw)
	}
	return v.key.compare(w.key)
}

// Base returns the ecosystem without its release suffix:
// "Debian:12" → "Debian", "Ubuntu:Pro:22.04:LTS" → "Ubuntu".
func Base(ecosystem string) string {
	if i := strings.IndexByte(ecosystem, ':'); i >= 0 {
		return ecosystem[:i]
	}
	return ecosystem
}

// OrderingOf returns the ordering an ecosystem's ECOSYSTEM ranges use.
// The error wraps ErrUnsupportedEcosystem.
func OrderingOf(ecosystem string) (Ordering, error) {
	switch Base(ecosystem) {
	case Debian, Ubuntu:
		return Dpkg, nil
	case Alpine, Wolfi, Chainguard:
		return Apk, nil
	case RedHat, AlmaLinux, Rocky, SUSE, OpenSUSE, Mageia:
		return RPM, nil
	case Go:
		return GoModule, nil
	case CratesIO:
		return SemVer, nil
	case Npm:
		return NodeSemver, nil
	case PyPI:
		return PEP440, nil
	case Maven:
		return MavenOrder, nil
	case RubyGems:
		return Gem, nil
	case NuGet:
		return NuGetOrder, nil
	case Packagist:
		return Composer, nil
	}
	return "", fmt.Errorf("%w %q", ErrUnsupportedEcosystem, ecosystem)
}

// Supported reports whether Parse knows the ecosystem's ordering.
func Supported(ecosystem string) bool {
	_, err := OrderingOf(ecosystem)
	return err == nil
}

// Parse parses s with the ordering of ecosystem (which may carry a
// release suffix). Errors wrap ErrUnsupportedEcosystem or
// ErrInvalidVersion.
func Parse(ecosystem, s string) (Version, error) {
	ord, err := OrderingOf(ecosystem)
	if err != nil {
		return Version{}, err
	}
	return ParseOrdering(ord, s)
}

// ParseOrdering parses s with the named ordering (ParseOrdering(SemVer, …)
// reads the events of an OSV SEMVER range). Errors wrap
// ErrInvalidVersion, or ErrUnsupportedEcosystem for an unknown ordering.
func ParseOrdering(ord Ordering, s string) (Version, error) {
	var (
		key orderKey
		err error
	)
	switch ord {
	case Dpkg:
		key, err = parseDpkg(s)
	case Apk:
		key, err = parseApk(s)
	case RPM:
		key, err = parseRPM(s)
	case SemVer:
		key, err = parseSemVer(s)
	case GoModule:
		key, err = parseGo(s)
	case NodeSemver:
		key, err = parseNpm(s)
	case PEP440:
		key, err = parsePEP440(s)
	case MavenOrder:
		key, err = parseMaven(s)
	case Gem:
		key, err = parseGem(s)
	case NuGetOrder:
		key, err = parseNuGet(s)
	case Composer:
		key, err = parseComposer(s)
	default:
		return Version{}, fmt.Errorf("%w: no ordering %q", ErrUnsupportedEcosystem, ord)
	}
	if err != nil {
		return Version{}, fmt.Errorf("%w: %q is not a %s version (%v)", ErrInvalidVersion, s, ord, err)
	}
	return Version{ord: ord, raw: s, key: key}, nil
}

// Compare parses a and b with the ecosystem's ordering and compares them.
func Compare(ecosystem, a, b string) (int, error) {
	va, err := Parse(ecosystem, a)
	if err != nil {
		return 0, err
	}
	vb, err := Parse(ecosystem, b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// Valid reports whether s parses with the ecosystem's ordering.
func Valid(ecosystem, s string) bool {
	_, err := Parse(ecosystem, s)
	return err == nil
}

// sign maps any integer to -1, 0 or +1.
func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// checkPlain refuses what no ordering accepts: empty strings, whitespace
// and control characters (a version is one token in every ecosystem).
func checkPlain(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return errors.New("contains a space or control character")
		}
	}
	return nil
}
