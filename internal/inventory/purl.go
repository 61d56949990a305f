package inventory

import (
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// finalize fills in what depends on the whole filesystem: the ecosystem of
// distro packages (Debian or Ubuntu, Alpine or Wolfi …) and every purl.
func finalize(pkgs []Package, o *OS) {
	for i := range pkgs {
		p := &pkgs[i]
		switch p.Type {
		case TypeDpkg:
			p.Ecosystem = EcosystemDebian
			if o != nil && o.Family == "ubuntu" {
				p.Ecosystem = EcosystemUbuntu
			}
		case TypeApk:
			p.Ecosystem = EcosystemAlpine
			if o != nil && o.Family == "wolfi" {
				p.Ecosystem = EcosystemWolfi
			} else if o != nil && o.Family == "chainguard" {
				p.Ecosystem = EcosystemChainguard
			}
		case TypeRPM:
			p.Ecosystem = EcosystemRPM
			if o != nil {
				switch o.Family {
				case "redhat", "centos":
					p.Ecosystem = EcosystemRedHat
				case "rocky":
					p.Ecosystem = EcosystemRocky
				case "alma":
					p.Ecosystem = EcosystemAlma
				case "opensuse":
					p.Ecosystem = EcosystemOpenSUSE
				case "sles":
					p.Ecosystem = EcosystemSUSE
				}
			}
		}
		p.PURL = purlOf(p, o)
	}
}

// purlNamespace is the purl namespace of a distribution's packages
// (purl-spec types: deb/debian, apk/alpine, rpm/fedora, rpm/redhat …).
func purlNamespace(o *OS, fallback string) string {
	if o == nil || o.ID == "" {
		return fallback
	}
	switch o.ID {
	case "rhel":
		return "redhat"
	case "amzn":
		return "amazon"
	case "ol":
		return "oracle"
	case "opensuse-leap", "opensuse-tumbleweed":
		return "opensuse"
	}
	return o.ID
}

func distroQualifier(o *OS) string {
	if o == nil || o.ID == "" {
		return ""
	}
	v := o.VersionID
	if v == "" {
		v = o.Name
	}
	if v == "" {
		return o.ID
	}
	return o.ID + "-" + v
}

func purlOf(p *Package, o *OS) string {
	var q []packageurl.Qualifier
	qual := func(k, v string) {
		if v != "" {
			q = append(q, packageurl.Qualifier{Key: k, Value: v})
		}
	}
	var u *packageurl.PackageURL
	switch p.Type {
	case TypeDpkg:
		qual("arch", p.Arch)
		qual("distro", distroQualifier(o))
		if p.SrcName != p.Name || p.SrcVersion != p.Version {
			up := p.SrcName
			if p.SrcVersion != p.Version {
				up += "@" + p.SrcVersion
			}
			qual("upstream", up)
		}
		u = packageurl.NewPackageURL(packageurl.TypeDebian, purlNamespace(o, "debian"), p.Name, p.Version, q, "")
	case TypeApk:
		qual("arch", p.Arch)
		qual("distro", distroQualifier(o))
		if p.SrcName != p.Name {
			qual("upstream", p.SrcName)
		}
		u = packageurl.NewPackageURL(packageurl.TypeApk, purlNamespace(o, "alpine"), p.Name, p.Version, q, "")
	case TypeRPM:
		qual("arch", p.Arch)
		if p.Epoch > 0 {
			qual("epoch", strconv.Itoa(p.Epoch))
		}
		qual("distro", distroQualifier(o))
		if p.SrcName != p.Name {
			qual("upstream", p.SrcName)
		}
		v := p.RPMVersion
		if p.Release != "" {
			v += "-" + p.Release
		}
		u = packageurl.NewPackageURL(packageurl.TypeRPM, purlNamespace(o, ""), p.Name, v, q, "")
	case TypeGoBinary, TypeGoMod:
		ns, name := splitLast(p.Name, "/")
		v := p.Version
		if v != "" {
			v = "v" + v
		}
		u = packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, v, nil, "")
	case TypePythonPkg, TypePip, TypePoetry, TypePipenv:
		u = packageurl.NewPackageURL(packageurl.TypePyPi, "", pep503Name(p.Name), p.Version, nil, "")
	case TypeNodePkg, TypeNpm, TypeYarn, TypePnpm:
		ns, name := "", p.Name
		if strings.HasPrefix(p.Name, "@") {
			ns, name = splitLast(p.Name, "/")
		}
		u = packageurl.NewPackageURL(packageurl.TypeNPM, ns, name, p.Version, nil, "")
	case TypeJar:
		ns, name, _ := strings.Cut(p.Name, ":")
		if name == "" {
			ns, name = "", ns
		}
		u = packageurl.NewPackageURL(packageurl.TypeMaven, ns, name, p.Version, nil, "")
	case TypeCargo:
		u = packageurl.NewPackageURL(packageurl.TypeCargo, "", p.Name, p.Version, nil, "")
	case TypeBundler:
		u = packageurl.NewPackageURL(packageurl.TypeGem, "", p.Name, p.Version, nil, "")
	case TypeComposer:
		ns, name := splitLast(p.Name, "/")
		u = packageurl.NewPackageURL(packageurl.TypeComposer, ns, name, p.Version, nil, "")
	default:
		return ""
	}
	return u.ToString()
}

func splitLast(s, sep string) (string, string) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+len(sep):]
}
