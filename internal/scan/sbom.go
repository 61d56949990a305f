package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/report"
)

// maxSBOM bounds the SBOM file read (the largest real SBOMs, of images
// with tens of thousands of components, are tens of MB).
const maxSBOM = 256 << 20

// openSBOM reads a CycloneDX or SPDX JSON SBOM: its packages from their
// purls (and tollgate's own properties, which keep source packages and
// file paths), its OS from an operating-system component or the distro
// qualifier of the purls.
func openSBOM(path string) (*artifact, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, pathError(err))
	}
	if fi.Size() > maxSBOM {
		return nil, fmt.Errorf("%s: %d bytes, larger than the %d an SBOM may have", path, fi.Size(), maxSBOM)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, pathError(err))
	}
	var probe struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return nil, fmt.Errorf("%s is not JSON: tollgate reads CycloneDX and SPDX SBOMs in JSON", path)
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return readCycloneDX(path, data)
	case strings.HasPrefix(probe.SPDXVersion, "SPDX-"):
		return readSPDX(path, data)
	}
	return nil, fmt.Errorf("%s is neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) document", path)
}

func readCycloneDX(path string, data []byte) (*artifact, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("%s: not a CycloneDX document that parses", path)
	}
	inv := &inventory.Inventory{}
	var comps []cdx.Component
	var walk func([]cdx.Component)
	walk = func(cs []cdx.Component) {
		for _, c := range cs {
			comps = append(comps, c)
			if c.Components != nil {
				walk(*c.Components)
			}
		}
	}
	if bom.Components != nil {
		walk(*bom.Components)
	}
	for _, c := range comps {
		if c.Type == cdx.ComponentTypeOS {
			inv.OS = &inventory.OS{Family: strings.ToLower(c.Name), Name: c.Version, ID: strings.ToLower(c.Name), VersionID: c.Version}
			if c.Properties != nil {
				for _, p := range *c.Properties {
					if p.Name == "tollgate:os:versionID" {
						inv.OS.VersionID = p.Value
					}
				}
			}
			continue
		}
		if c.PackageURL == "" {
			continue
		}
		p, ok := fromPURL(c.PackageURL)
		if !ok {
			inv.Warnings = append(inv.Warnings, fmt.Sprintf("component %s: purl %q is not one tollgate matches", c.Name, c.PackageURL))
			continue
		}
		if c.Properties != nil {
			for _, pr := range *c.Properties {
				switch pr.Name {
				case "tollgate:srcName":
					p.SrcName = pr.Value
				case "tollgate:srcVersion":
					p.SrcVersion = pr.Value
				case "tollgate:filePath":
					p.FilePath = pr.Value
				case "tollgate:type":
					p.Type = pr.Value
				}
			}
		}
		inv.Packages = append(inv.Packages, p)
	}
	finishSBOM(inv)
	return &artifact{name: path, typ: report.ArtifactCycloneDX, inv: inv}, nil
}

func readSPDX(path string, data []byte) (*artifact, error) {
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil || doc == nil {
		return nil, fmt.Errorf("%s: not an SPDX JSON document that parses", path)
	}
	inv := &inventory.Inventory{}
	for _, sp := range doc.Packages {
		if sp == nil { // older SPDX versions convert to nil entries
			continue
		}
		if sp.PrimaryPackagePurpose == "OPERATING-SYSTEM" {
			inv.OS = &inventory.OS{Family: strings.ToLower(sp.PackageName), Name: sp.PackageVersion, ID: strings.ToLower(sp.PackageName), VersionID: sp.PackageVersion}
			continue
		}
		for _, ref := range sp.PackageExternalReferences {
			if ref == nil || ref.RefType != "purl" {
				continue
			}
			if p, ok := fromPURL(ref.Locator); ok {
				inv.Packages = append(inv.Packages, p)
			} else {
				inv.Warnings = append(inv.Warnings, fmt.Sprintf("package %s: purl %q is not one tollgate matches", sp.PackageName, ref.Locator))
			}
			break
		}
	}
	finishSBOM(inv)
	return &artifact{name: path, typ: report.ArtifactSPDX, inv: inv}, nil
}

// finishSBOM takes the OS from the purls' distro qualifier when the SBOM
// names none.
func finishSBOM(inv *inventory.Inventory) {
	if inv.OS != nil {
		normalizeOS(inv.OS)
		return
	}
	for _, p := range inv.Packages {
		u, err := packageurl.FromString(p.PURL)
		if err != nil {
			continue
		}
		d := u.Qualifiers.Map()["distro"]
		if d == "" {
			continue
		}
		id, ver, _ := strings.Cut(d, "-")
		if ver == "" { // apk purls write distro=3.19.1
			id, ver = u.Namespace, d
		}
		inv.OS = &inventory.OS{Family: id, ID: id, Name: ver, VersionID: ver}
		normalizeOS(inv.OS)
		return
	}
}

func normalizeOS(o *inventory.OS) {
	switch o.Family {
	case "rhel":
		o.Family = "redhat"
	case "almalinux":
		o.Family = "alma"
	}
	if o.VersionID == "" {
		o.VersionID = o.Name
	}
}

// fromPURL turns a package URL into a package to match.
func fromPURL(s string) (inventory.Package, bool) {
	u, err := packageurl.FromString(s)
	if err != nil {
		return inventory.Package{}, false
	}
	q := u.Qualifiers.Map()
	p := inventory.Package{Name: u.Name, Version: u.Version, PURL: s, Arch: q["arch"]}
	switch u.Type {
	case packageurl.TypeDebian:
		p.Type, p.Ecosystem = inventory.TypeDpkg, inventory.EcosystemDebian
		if u.Namespace == "ubuntu" {
			p.Ecosystem = inventory.EcosystemUbuntu
		}
		p.SrcName, p.SrcVersion = p.Name, p.Version
		if up := q["upstream"]; up != "" {
			n, v, hasV := strings.Cut(up, "@")
			p.SrcName = n
			if hasV {
				p.SrcVersion = v
			}
		}
	case packageurl.TypeApk:
		p.Type, p.Ecosystem = inventory.TypeApk, inventory.EcosystemAlpine
		p.SrcName, p.SrcVersion = p.Name, p.Version
		if up := q["upstream"]; up != "" {
			p.SrcName = up
		}
	case packageurl.TypeGolang:
		p.Type, p.Ecosystem = inventory.TypeGoBinary, inventory.EcosystemGo
		if u.Namespace != "" {
			p.Name = u.Namespace + "/" + u.Name
		}
		p.Version = strings.TrimPrefix(p.Version, "v")
	case packageurl.TypePyPi:
		p.Type, p.Ecosystem = inventory.TypePythonPkg, inventory.EcosystemPyPI
	case packageurl.TypeNPM:
		p.Type, p.Ecosystem = inventory.TypeNodePkg, inventory.EcosystemNpm
		if u.Namespace != "" {
			p.Name = u.Namespace + "/" + u.Name
		}
	case packageurl.TypeMaven:
		p.Type, p.Ecosystem = inventory.TypeJar, inventory.EcosystemMaven
		if u.Namespace != "" {
			p.Name = u.Namespace + ":" + u.Name
		}
	case packageurl.TypeGem:
		p.Type, p.Ecosystem = inventory.TypeBundler, inventory.EcosystemRubyGems
	case packageurl.TypeCargo:
		p.Type, p.Ecosystem = inventory.TypeCargo, inventory.EcosystemCrates
	case packageurl.TypeComposer:
		p.Type, p.Ecosystem = inventory.TypeComposer, inventory.EcosystemPackagist
		if u.Namespace != "" {
			p.Name = u.Namespace + "/" + u.Name
		}
	default:
		return inventory.Package{}, false
	}
	return p, true
}
