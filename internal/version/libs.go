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

type dpkgKey struct{ v deb.Version }

func parseDpkg(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v, err := deb.NewVersion(s)
	if err != nil {
		return nil, err
	}
	return dpkgKey{v}, nil
}

func (k dpkgKey) compare(o orderKey) int { return sign(k.v.Compare(o.(dpkgKey).v)) }

type apkKey struct{ v apk.Version }

func parseApk(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v, err := apk.NewVersion(s)
	if err != nil {
		return nil, err
	}
	return apkKey{v}, nil
}

func (k apkKey) compare(o orderKey) int { return sign(k.v.Compare(o.(apkKey).v)) }

type rpmKey struct{ v rpm.Version }

func parseRPM(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	// rpmvercmp reads any string; refuse what cannot be an EVR at all: an
	// epoch that is not a number, or nothing before the release.
	evr := s
	if i := strings.IndexByte(evr, ':'); i >= 0 {
		if i == 0 || strings.Trim(evr[:i], "0123456789") != "" {
			return nil, errors.New("epoch is not a number")
		}
		evr = evr[i+1:]
	}
	if evr == "" || evr[0] == '-' {
		return nil, errors.New("no version before the release")
	}
	return rpmKey{rpm.NewVersion(s)}, nil
}

func (k rpmKey) compare(o orderKey) int { return sign(k.v.Compare(o.(rpmKey).v)) }

type semverKey struct{ v *semver.Version }

// parseSemVer reads strict SemVer 2.0: three numbers, no leading "v".
func parseSemVer(s string) (orderKey, error) {
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return nil, err
	}
	return semverKey{v}, nil
}

func (k semverKey) compare(o orderKey) int { return sign(k.v.Compare(o.(semverKey).v)) }

type npmKey struct{ v npm.Version }

func parseNpm(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	// node-semver's parser drops a leading "v" or "=" (semver.valid("v1.2.3")
	// is "1.2.3"); the library does not.
	v, err := npm.NewVersion(strings.TrimLeft(s, "=v"))
	if err != nil {
		return nil, err
	}
	return npmKey{v}, nil
}

func (k npmKey) compare(o orderKey) int { return sign(k.v.Compare(o.(npmKey).v)) }

type pep440Key struct{ v pep440.Version }

func parsePEP440(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v, err := pep440.Parse(s)
	if err != nil {
		return nil, err
	}
	return pep440Key{v}, nil
}

func (k pep440Key) compare(o orderKey) int { return sign(k.v.Compare(o.(pep440Key).v)) }

type mavenKey struct{ v mvn.Version }

func parseMaven(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v, err := mvn.NewVersion(s)
	if err != nil {
		return nil, err
	}
	return mavenKey{v}, nil
}

func (k mavenKey) compare(o orderKey) int { return sign(k.v.Compare(o.(mavenKey).v)) }

type gemKey struct{ v gem.Version }

func parseGem(s string) (orderKey, error) {
	if err := checkPlain(s); err != nil {
		return nil, err
	}
	v, err := gem.NewVersion(s)
	if err != nil {
		return nil, err
	}
	return gemKey{v}, nil
}

func (k gemKey) compare(o orderKey) int { return sign(k.v.Compare(o.(gemKey).v)) }

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
