package version

import (
	"errors"
	"strings"

	"github.com/Masterminds/semver/v3"
	gem "github.com/aquasecurity/go-gem-version"
	npm "github.com/aquasecurity/go-npm-version/pkg"
	pep440 "github.com/aquasecurity/go-pep440-version"
	apk "github.com/knqyf263/go-apk-version"
	deb "github.com/knqyf263/go-deb-version"
	rpm "github.com/knqyf263/go-rpm-version"
	mvn "github.com/masahiro331/go-mvn-version"
	modsemver "golang.org/x/mod/semver"
)

// Each ordering wraps the library the peers (Trivy, osv-scanner) use, so
// tollgate agrees with them where they are right; the fixtures in
// testdata/ pin the behaviour either way.

// libKey is a version parsed by a library, with the library's comparison.
type libKey[T any] struct {
	v   T
	cmp func(a, b T) int
}

func (k libKey[T]) compare(o orderKey) int { return sign(k.cmp(k.v, o.(libKey[T]).v)) }

// viaLib parses s with a library after the checks every ordering shares.
func viaLib[T any](s string, parse func(string) (T, error), cmp func(a, b T) int) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v, err := parse(s)
	if err != nil {
		return nil, err
	}
	return libKey[T]{v: v, cmp: cmp}, nil
}

func parseDpkg(s string) (orderKey, error) {
	return viaLib(s, deb.NewVersion, func(a, b deb.Version) int { return a.Compare(b) })
}

func parseApk(s string) (orderKey, error) {
	return viaLib(s, apk.NewVersion, apk.Version.Compare)
}

func parseRPM(s string) (orderKey, error) {
	return viaLib(s, func(s string) (rpm.Version, error) {
		// rpmvercmp reads any string; refuse what cannot be an EVR at all:
		// an epoch that is not a number, or nothing before the release.
		evr := s
		if i := strings.IndexByte(evr, ':'); i >= 0 {
			if i == 0 || strings.Trim(evr[:i], "0123456789") != "" {
				return rpm.Version{}, errors.New("epoch is not a number")
			}
			evr = evr[i+1:]
		}
		if evr == "" || evr[0] == '-' {
			return rpm.Version{}, errors.New("no version before the release")
		}
		return rpm.NewVersion(s), nil
	}, rpm.Version.Compare)
}

// parseSemVer reads strict SemVer 2.0: three numbers, no leading "v".
func parseSemVer(s string) (orderKey, error) {
	return viaLib(s, semver.StrictNewVersion, (*semver.Version).Compare)
}

func parseNpm(s string) (orderKey, error) {
	// node-semver's parser drops a leading "v" or "=" (semver.valid("v1.2.3")
	// is "1.2.3"); the library does not.
	return viaLib(strings.TrimLeft(s, "=v"), npm.NewVersion, npm.Version.Compare)
}

func parsePEP440(s string) (orderKey, error) {
	return viaLib(s, pep440.Parse, pep440.Version.Compare)
}

func parseMaven(s string) (orderKey, error) {
	return viaLib(s, mvn.NewVersion, mvn.Version.Compare)
}

func parseGem(s string) (orderKey, error) {
	return viaLib(s, gem.NewVersion, gem.Version.Compare)
}

// goKey is a Go module or toolchain version in canonical "vX.Y.Z[-pre]"
// form for golang.org/x/mod/semver.
type goKey struct{ canonical string }

func parseGo(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v := "v" + NormalizeGo(s)
	if !modsemver.IsValid(v) {
		return nil, errors.New("not a Go module or toolchain version")
	}
	return goKey{v}, nil
}

func (k goKey) compare(o orderKey) int { return modsemver.Compare(k.canonical, o.(goKey).canonical) }

// NormalizeGo returns a Go version in the SemVer spelling OSV's Go records
// use: the leading "v" of module versions is dropped, and toolchain
// versions are rewritten ("go1.21rc2" → "1.21.0-rc.2", "go1.21" →
// "1.21.0", "go1.21.3" → "1.21.3", "go1.9beta1" → "1.9.0-beta.1"). Other
// strings come back without a leading "v" and otherwise unchanged.
func NormalizeGo(s string) string {
	if rest, ok := strings.CutPrefix(s, "go"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		return toolchainSemver(rest)
	}
	s = strings.TrimPrefix(s, "v")
	return s
}

// toolchainSemver converts "1.21rc2" / "1.21.3" / "1.21" to SemVer.
func toolchainSemver(s string) string {
	num, pre := s, ""
	if i := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		num, pre = s[:i], s[i:]
	}
	parts := strings.Split(num, ".")
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	out := strings.Join(parts, ".")
	if pre == "" {
		return out
	}
	// "rc2" → "rc.2", "beta1" → "beta.1"
	j := strings.IndexFunc(pre, func(r rune) bool { return r >= '0' && r <= '9' })
	if j > 0 {
		return out + "-" + pre[:j] + "." + pre[j:]
	}
	return out + "-" + pre
}
