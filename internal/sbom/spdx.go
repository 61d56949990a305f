package sbom

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/tollgate-dev/tollgate/internal/inventory"
)

const noAssertion = "NOASSERTION"

// namespaceBase is the URI prefix of SPDX document namespaces. SPDX asks
// for a unique URI per document; it need not resolve.
const namespaceBase = "https://tollgate.dev/spdxdocs/"

func writeSPDX(w io.Writer, inv *inventory.Inventory, o Options) error {
	name := sourceName(inv.Source)
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: namespaceBase + url.PathEscape(strings.Trim(name, "/")) + "-" + o.NewUUID(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{
				{CreatorType: "Organization", Creator: "tollgate-dev"},
				{CreatorType: "Tool", Creator: "tollgate-" + o.ToolVersion},
			},
			Created: o.Now().UTC().Format(time.RFC3339),
		},
	}
	lic := newLicenseRefs()

	root := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   common.ElementID("Source-" + shortID(string(inv.Source.Kind)+":"+name)),
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "SOURCE",
		PackageComment:          sourceComment(inv),
	}
	if inv.Source.Kind.IsImage() {
		root.PrimaryPackagePurpose = "CONTAINER"
		if purl := imagePURL(inv.Source); purl != "" {
			root.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: purl}}
		}
		root.PackageVersion = inv.Source.ImageID
	}
	doc.Packages = append(doc.Packages, root)
	rel := func(a, b common.ElementID, typ string) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(a)),
			RefB:         common.MakeDocElementID("", string(b)),
			Relationship: typ,
		})
	}
	rel("DOCUMENT", root.PackageSPDXIdentifier, "DESCRIBES")

	var osID common.ElementID
	if inv.OS != nil {
		osID = common.ElementID("OperatingSystem-" + shortID(inv.OS.Family+"@"+inv.OS.Name))
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName:             inv.OS.Family,
			PackageVersion:          inv.OS.Name,
			PackageSPDXIdentifier:   osID,
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  noAssertion,
			PackageCopyrightText:    noAssertion,
			PrimaryPackagePurpose:   "OPERATING-SYSTEM",
			PackageSourceInfo:       inv.OS.PrettyName,
		})
		rel(root.PackageSPDXIdentifier, osID, "CONTAINS")
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		sp := &spdx.Package{
			PackageName:             p.Name,
			PackageVersion:          p.Version,
			PackageSPDXIdentifier:   common.ElementID("Package-" + shortID(p.ID())),
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  lic.declared(p.Licenses),
			PackageCopyrightText:    noAssertion,
			PrimaryPackagePurpose:   "LIBRARY",
			PackageSourceInfo:       packageSourceInfo(p),
		}
		if p.Maintainer != "" {
			sp.PackageSupplier = supplier(p.Maintainer)
		}
		if p.PURL != "" {
			sp.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p.PURL}}
		}
		doc.Packages = append(doc.Packages, sp)
		if osID != "" && isOSPackage(p) {
			rel(osID, sp.PackageSPDXIdentifier, "CONTAINS")
		} else {
			rel(root.PackageSPDXIdentifier, sp.PackageSPDXIdentifier, "CONTAINS")
		}
	}
	doc.OtherLicenses = lic.others()
	// The v2_3 types carry their own JSON encoding; encoding them directly
	// keeps tools-golang's format converters (and their dependencies) out
	// of the binary.
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing SPDX: %w", err)
	}
	return nil
}

func sourceComment(inv *inventory.Inventory) string {
	var parts []string
	parts = append(parts, "source: "+string(inv.Source.Kind))
	if inv.Source.Commit != "" {
		parts = append(parts, "commit: "+inv.Source.Commit)
	}
	for _, t := range inv.Source.RepoTags {
		parts = append(parts, "tag: "+t)
	}
	for _, w := range inv.Warnings {
		parts = append(parts, "warning: "+w)
	}
	return strings.Join(parts, "\n")
}

// packageSourceInfo says where the package was found (SPDX 7.12): the file
// and, for images, the layer.
func packageSourceInfo(p *inventory.Package) string {
	s := fmt.Sprintf("%s package found in %s", p.Type, p.FilePath)
	if p.Layer != nil {
		s += fmt.Sprintf(" (layer %d, diffID %s", p.Layer.Index+1, p.Layer.DiffID)
		if p.Layer.Digest != "" {
			s += ", digest " + p.Layer.Digest
		}
		s += ")"
	}
	if p.SrcName != "" && (p.SrcName != p.Name || p.SrcVersion != p.Version) {
		s += fmt.Sprintf("; source package %s %s", p.SrcName, p.SrcVersion)
	}
	return s
}

// supplier turns a maintainer ("Name <mail>", as package databases write
// it) into an SPDX supplier ("Name (mail)", SPDX 2.3 section 7.5).
func supplier(m string) *common.Supplier {
	m = strings.TrimSpace(m)
	if name, mail, ok := strings.Cut(m, "<"); ok {
		m = strings.TrimSpace(name) + " (" + strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(mail), ">")) + ")"
	}
	return &common.Supplier{SupplierType: "Person", Supplier: m}
}

// licenseRefs turns license strings into SPDX license expressions; strings
// that are not expressions become LicenseRef-… identifiers with the
// original text kept as extracted licensing info.
type licenseRefs struct {
	refs map[string]string // LicenseRef id → original text
}

func newLicenseRefs() *licenseRefs { return &licenseRefs{refs: map[string]string{}} }

var refUnsafe = regexp.MustCompile(`[^A-Za-z0-9.\-]+`)

func (l *licenseRefs) declared(lics []string) string {
	if len(lics) == 0 {
		return noAssertion
	}
	var parts []string
	for _, s := range lics {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if isLicenseExpression(s) {
			if len(lics) > 1 && strings.Contains(s, " ") {
				s = "(" + s + ")"
			}
			parts = append(parts, s)
			continue
		}
		id := "LicenseRef-" + strings.Trim(refUnsafe.ReplaceAllString(s, "-"), "-")
		if id == "LicenseRef-" {
			continue
		}
		if prev, ok := l.refs[id]; ok && prev != s {
			id += "-" + shortID(s)[:8]
		}
		l.refs[id] = s
		parts = append(parts, id)
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}

func (l *licenseRefs) others() []*spdx.OtherLicense {
	ids := make([]string, 0, len(l.refs))
	for id := range l.refs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []*spdx.OtherLicense
	for _, id := range ids {
		out = append(out, &spdx.OtherLicense{LicenseIdentifier: id, ExtractedText: l.refs[id], LicenseName: l.refs[id]})
	}
	return out
}
