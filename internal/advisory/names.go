package advisory

import (
	"strings"

	"github.com/tollgate-dev/tollgate/internal/version"
)

// NormalizeName returns the form of a package name that the DB is keyed
// by, so that the importer and lookups agree on spelling:
//   - PyPI: PEP 503 (lower case, each run of "-", "_", "." becomes "-");
//   - crates.io, NuGet, Packagist: lower case (their registries compare
//     names case-insensitively);
//   - everything else as written (Go module paths, npm names with scope,
//     Maven groupId:artifactId, RubyGems and distro source packages are
//     case-sensitive).
//
// Surrounding space is dropped in every ecosystem.
func NormalizeName(ecosystem, name string) string {
	name = strings.TrimSpace(name)
	switch version.Base(ecosystem) {
	case version.PyPI:
		return pep503(name)
	case version.CratesIO, version.NuGet, version.Packagist:
		return strings.ToLower(name)
	}
	return name
}

func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// NormalizeEcosystem returns the ecosystem key the DB uses: the record's
// ecosystem with surrounding space dropped. Releases are kept
// ("Debian:12", "Alpine:v3.19"): lookups ask for one release.
func NormalizeEcosystem(ecosystem string) string { return strings.TrimSpace(ecosystem) }

// packageKey is the bbolt key of (ecosystem, name).
func packageKey(ecosystem, name string) []byte {
	return appendPackageKey(nil, ecosystem, name)
}

// appendPackageKey appends the key of (ecosystem, name) to dst (a lookup
// passes a buffer on its stack).
func appendPackageKey(dst []byte, ecosystem, name string) []byte {
	eco := NormalizeEcosystem(ecosystem)
	n := NormalizeName(eco, name)
	dst = append(dst, eco...)
	dst = append(dst, 0)
	return append(dst, n...)
}
