package inventory

import (
	"cmp"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Ecosystem names follow the OSV schema's ecosystem column, without the
// release suffix (OS.OSVEcosystem adds it for distro packages). The
// advisory matcher looks packages up by (Ecosystem, Name, Version).
const (
	EcosystemDebian     = "Debian"
	EcosystemUbuntu     = "Ubuntu"
	EcosystemAlpine     = "Alpine"
	EcosystemWolfi      = "Wolfi"
	EcosystemChainguard = "Chainguard"
	EcosystemRedHat     = "Red Hat"
	EcosystemRocky      = "Rocky Linux"
	EcosystemAlma       = "AlmaLinux"
	EcosystemSUSE       = "SUSE"
	EcosystemOpenSUSE   = "openSUSE"
	EcosystemRPM        = "RPM" // an rpm distribution OSV does not name
	EcosystemGo         = "Go"
	EcosystemPyPI       = "PyPI"
	EcosystemNpm        = "npm"
	EcosystemMaven      = "Maven"
	EcosystemCrates     = "crates.io"
	EcosystemRubyGems   = "RubyGems"
	EcosystemPackagist  = "Packagist"
)

// Type says which kind of file a package was read from. The values are
// Trivy's result types, so a Trivy-compatible report can use them as they are.
const (
	TypeDpkg      = "dpkg"
	TypeApk       = "apk"
	TypeRPM       = "rpm"
	TypeGoBinary  = "gobinary"
	TypeGoMod     = "gomod"
	TypePythonPkg = "python-pkg"
	TypeNodePkg   = "node-pkg"
	TypeJar       = "jar"
	TypeNpm       = "npm"
	TypeYarn      = "yarn"
	TypePnpm      = "pnpm"
	TypePip       = "pip"
	TypePoetry    = "poetry"
	TypePipenv    = "pipenv"
	TypeCargo     = "cargo"
	TypeBundler   = "bundler"
	TypeComposer  = "composer"
)

// Layer identifies the image layer a package arrived in. Digest is the
// digest of the layer blob as distributed (compressed); it is empty when the
// source does not record one (a classic `docker save` tar stores layers
// uncompressed and unnamed by digest). DiffID is the digest of the
// uncompressed layer tar and is always set for image sources.
type Layer struct {
	Index  int    `json:"index"`
	Digest string `json:"digest,omitempty"`
	DiffID string `json:"diffID"`
}

// Package is one installed (or locked) component.
//
// Version is the version as the ecosystem's advisories spell it: a Debian
// version with its epoch ("1:2.3-4"), an apk version ("1.2.3-r0"), an rpm
// [epoch:]version-release, a Go module version without the leading "v"
// ("1.2.3", "0.0.0-2020…"), the Go toolchain version for "stdlib" ("1.22.1").
// For distro packages SrcName/SrcVersion name the source package, which is
// what distro advisories are keyed by.
type Package struct {
	Name       string   `json:"name"`
	Version    string   `json:"version,omitempty"`
	SrcName    string   `json:"srcName,omitempty"`
	SrcVersion string   `json:"srcVersion,omitempty"`
	Arch       string   `json:"arch,omitempty"`
	Ecosystem  string   `json:"ecosystem"`
	Type       string   `json:"type"`
	PURL       string   `json:"purl,omitempty"`
	Licenses   []string `json:"licenses,omitempty"`
	Dev        bool     `json:"dev,omitempty"`  // a development-only dependency of a lock file
	Main       bool     `json:"main,omitempty"` // the main module of a Go binary
	Maintainer string   `json:"maintainer,omitempty"`

	// FilePath is the file the package was read from, relative to the root
	// of the scanned filesystem ("var/lib/dpkg/status", "app/go.mod"). For
	// packages inside archives it continues into the archive with '/'
	// ("opt/app.war/WEB-INF/lib/x.jar").
	FilePath string `json:"filePath"`
	Layer    *Layer `json:"layer,omitempty"`

	// Epoch, RPMVersion and Release keep an rpm's NEVRA parts apart as well.
	Epoch      int    `json:"epoch,omitempty"`
	RPMVersion string `json:"rpmVersion,omitempty"`
	Release    string `json:"release,omitempty"`
	// Modularity label of rpm packages from a module stream.
	Modularity string `json:"modularity,omitempty"`

	// GoCode says which of a Go module's packages a Go binary contains;
	// nil for packages not read from a Go binary.
	GoCode *GoCode `json:"goCode,omitempty"`
}

// GoCode is what a Go binary's function table tells about one module (or
// "stdlib") linked into it.
type GoCode struct {
	// Packages are the import paths of the module's packages that have
	// code in the binary, sorted; meaningful only when Unread is "".
	Packages []string `json:"packages,omitempty"`
	// Unread says why the binary's package list could not be read ("" when
	// it was); the module's packages are then unknown.
	Unread string `json:"unread,omitempty"`
}

// HasGoPackage reports whether the binary is known to contain the package
// with import path p. It is false when the package list is unknown.
func (c *GoCode) HasGoPackage(p string) bool {
	if c == nil || c.Unread != "" {
		return false
	}
	_, ok := slices.BinarySearch(c.Packages, p)
	return ok
}

// OS describes the operating system release of an image or root filesystem.
type OS struct {
	// Family is the distribution in Trivy's words ("debian", "ubuntu",
	// "alpine", "redhat", "centos", "rocky", "alma", "fedora", "amazon",
	// "oracle", "opensuse", "sles", "wolfi", "chainguard", …).
	Family string `json:"family"`
	// Name is the release as precise as the files say it: "12.11" from
	// debian_version, "3.19.1" from alpine-release, else VERSION_ID.
	Name       string `json:"name"`
	ID         string `json:"id,omitempty"`         // os-release ID
	VersionID  string `json:"versionID,omitempty"`  // os-release VERSION_ID
	Codename   string `json:"codename,omitempty"`   // os-release VERSION_CODENAME
	PrettyName string `json:"prettyName,omitempty"` // os-release PRETTY_NAME
	LTS        bool   `json:"lts,omitempty"`        // Ubuntu long-term support release
}

// Inventory is what a scan found.
type Inventory struct {
	Source   Source    `json:"source"`
	OS       *OS       `json:"os,omitempty"`
	Packages []Package `json:"packages"`
	// Warnings are things the user should know about the result: files that
	// could not be parsed or were too large to read. They never hide an
	// error that makes the whole result wrong.
	Warnings []string `json:"warnings,omitempty"`
}

// Source describes what was scanned.
type Source struct {
	Kind        Kind     `json:"kind"`
	Name        string   `json:"name"` // as the user gave it, without the scheme
	ImageID     string   `json:"imageID,omitempty"`
	Digest      string   `json:"digest,omitempty"` // manifest digest, when known
	RepoTags    []string `json:"repoTags,omitempty"`
	RepoDigests []string `json:"repoDigests,omitempty"`
	Layers      []Layer  `json:"layers,omitempty"`
	Arch        string   `json:"arch,omitempty"`
	OSName      string   `json:"osName,omitempty"` // image config "os"
	// Commit is the checked-out commit of a git source.
	Commit string `json:"commit,omitempty"`
	// Config is the image configuration (user, environment, history,
	// labels, diffIDs), for checks and reports that need more than the
	// packages.
	Config *v1.ConfigFile `json:"config,omitempty"`
}

// ID is a stable identifier of the package inside one inventory, used for
// SBOM references.
func (p *Package) ID() string {
	return p.Type + ":" + p.FilePath + ":" + p.Name + "@" + p.Version + ":" + p.Arch
}

// OSVEcosystem is the ecosystem string OSV uses for packages of this release:
// "Debian:12", "Ubuntu:22.04:LTS", "Alpine:v3.19", "Rocky Linux:9". It is ""
// for families OSV has no release-qualified ecosystem for.
func (o *OS) OSVEcosystem() string {
	if o == nil {
		return ""
	}
	major := func(v string) string { m, _, _ := strings.Cut(v, "."); return m }
	majorMinor := func(v string) string {
		parts := strings.SplitN(v, ".", 3)
		if len(parts) >= 2 {
			return parts[0] + "." + parts[1]
		}
		return v
	}
	switch o.Family {
	case "debian":
		if o.VersionID == "" {
			return "" // testing/sid has no VERSION_ID
		}
		return EcosystemDebian + ":" + major(o.VersionID)
	case "ubuntu":
		s := EcosystemUbuntu + ":" + majorMinor(o.VersionID)
		if o.LTS {
			s += ":LTS"
		}
		return s
	case "alpine":
		if strings.Contains(o.Name, "edge") || strings.Contains(o.Name, "_alpha") {
			return ""
		}
		return EcosystemAlpine + ":v" + majorMinor(o.Name)
	case "rocky":
		return EcosystemRocky + ":" + major(o.VersionID)
	case "alma":
		return EcosystemAlma + ":" + major(o.VersionID)
	case "wolfi":
		return EcosystemWolfi
	case "chainguard":
		return EcosystemChainguard
	}
	return ""
}

// sortPackages orders packages deterministically: by type, file, name,
// version, arch.
func sortPackages(pkgs []Package) {
	slices.SortStableFunc(pkgs, func(a, b Package) int {
		return cmp.Or(
			cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.FilePath, b.FilePath),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.Arch, b.Arch),
		)
	})
}
