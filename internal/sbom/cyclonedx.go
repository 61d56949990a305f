package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/tollgate-dev/tollgate/internal/inventory"
)

// Property names tollgate puts on CycloneDX components.
const (
	propPrefix      = "tollgate:"
	propType        = propPrefix + "package:type"
	propEcosystem   = propPrefix + "package:ecosystem"
	propSrcName     = propPrefix + "package:srcName"
	propSrcVersion  = propPrefix + "package:srcVersion"
	propArch        = propPrefix + "package:arch"
	propFilePath    = propPrefix + "package:filePath"
	propDev         = propPrefix + "package:dev"
	propLayerDigest = propPrefix + "layer:digest"
	propLayerDiffID = propPrefix + "layer:diffID"
	propImageID     = propPrefix + "image:id"
	propRepoTag     = propPrefix + "image:repoTag"
	propRepoDigest  = propPrefix + "image:repoDigest"
	propDiffID      = propPrefix + "image:diffID"
	propCommit      = propPrefix + "git:commit"
	propWarning     = propPrefix + "warning"
)

func writeCycloneDX(w io.Writer, inv *inventory.Inventory, o Options) error {
	// Built as 1.5 from the start and encoded as it is: the library's
	// EncodeVersion would deep-copy the whole document to convert it, which
	// costs more than everything else of a cached scan. Only fields that
	// exist in 1.5 are used.
	bom := &cdx.BOM{
		JSONSchema:   "http://cyclonedx.org/schema/bom-1.5.schema.json",
		BOMFormat:    cdx.BOMFormat,
		SpecVersion:  cdx.SpecVersion1_5,
		Version:      1,
		SerialNumber: "urn:uuid:" + o.NewUUID(),
	}
	root := rootComponent(inv)
	bom.Metadata = &cdx.Metadata{
		Timestamp: o.Now().UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type:    cdx.ComponentTypeApplication,
			Group:   "tollgate-dev",
			Name:    "tollgate",
			Version: o.ToolVersion,
		}}},
		Component: root,
	}
	comps := make([]cdx.Component, 0, len(inv.Packages)+1)
	rootDeps := make([]string, 0, len(inv.Packages)+1)
	var osDeps []string
	osRef := ""
	if inv.OS != nil {
		osRef = "os:" + inv.OS.Family + "@" + inv.OS.Name
		comps = append(comps, cdx.Component{
			BOMRef:  osRef,
			Type:    cdx.ComponentTypeOS,
			Name:    inv.OS.Family,
			Version: inv.OS.Name,
			Properties: props(
				propPrefix+"os:id", inv.OS.ID,
				propPrefix+"os:versionID", inv.OS.VersionID,
				propPrefix+"os:prettyName", inv.OS.PrettyName,
			),
		})
		rootDeps = append(rootDeps, osRef)
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		c := cdx.Component{
			BOMRef:     packageRef(p),
			Type:       cdx.ComponentTypeLibrary,
			Name:       p.Name,
			Version:    p.Version,
			PackageURL: p.PURL,
			Publisher:  p.Maintainer,
		}
		if p.Type == inventory.TypeJar {
			if g, a, ok := strings.Cut(p.Name, ":"); ok {
				c.Group, c.Name = g, a
			}
		}
		if len(p.Licenses) > 0 {
			var ls cdx.Licenses
			for _, l := range p.Licenses {
				ls = append(ls, cdx.LicenseChoice{License: &cdx.License{Name: l}})
			}
			c.Licenses = &ls
		}
		kv := []string{
			propArch, p.Arch,
			propDev, boolProp(p.Dev),
			propEcosystem, p.Ecosystem,
			propFilePath, p.FilePath,
		}
		if p.Layer != nil {
			kv = append(kv, propLayerDiffID, p.Layer.DiffID, propLayerDigest, p.Layer.Digest)
		}
		if p.SrcName != "" && (p.SrcName != p.Name || p.SrcVersion != p.Version) {
			kv = append(kv, propSrcName, p.SrcName, propSrcVersion, p.SrcVersion)
		}
		kv = append(kv, propType, p.Type)
		c.Properties = props(kv...)
		comps = append(comps, c)
		if osRef != "" && isOSPackage(p) {
			osDeps = append(osDeps, c.BOMRef)
		} else {
			rootDeps = append(rootDeps, c.BOMRef)
		}
	}
	deps := []cdx.Dependency{{Ref: root.BOMRef, Dependencies: nonEmpty(rootDeps)}}
	if osRef != "" {
		deps = append(deps, cdx.Dependency{Ref: osRef, Dependencies: nonEmpty(osDeps)})
	}
	if err := encodeCycloneDX(w, bom, comps, deps); err != nil {
		return fmt.Errorf("writing CycloneDX: %w", err)
	}
	return nil
}

// encodeCycloneDX writes the document as the library's pretty JSON
// encoder would (same bytes), but component by component: encoding the
// whole document at once builds it twice in memory (plain, then
// indented), which for large images costs more than the rest of a cached
// scan. The BOM's fields after metadata are components and dependencies
// only, so they are appended after the rest of the document.
func encodeCycloneDX(w io.Writer, bom *cdx.BOM, comps []cdx.Component, deps []cdx.Dependency) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	encode := func(v any, prefix string) ([]byte, error) {
		buf.Reset()
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	head, err := encode(bom, "")
	if err != nil {
		return err
	}
	// head ends with "\n}"; the arrays go before that brace.
	if _, err := w.Write(head[:len(head)-2]); err != nil {
		return err
	}
	writeArray := func(name string, n int, elem func(i int) any) error {
		if n == 0 {
			return nil
		}
		if _, err := io.WriteString(w, ",\n  \""+name+"\": ["); err != nil {
			return err
		}
		for i := range n {
			b, err := encode(elem(i), "    ")
			if err != nil {
				return err
			}
			sep := ",\n    "
			if i == 0 {
				sep = "\n    "
			}
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "\n  ]")
		return err
	}
	if err := writeArray("components", len(comps), func(i int) any { return &comps[i] }); err != nil {
		return err
	}
	if err := writeArray("dependencies", len(deps), func(i int) any { return &deps[i] }); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n}\n")
	return err
}

func rootComponent(inv *inventory.Inventory) *cdx.Component {
	src := inv.Source
	c := &cdx.Component{Name: sourceName(src)}
	var kv []string
	switch {
	case src.Kind.IsImage():
		c.Type = cdx.ComponentTypeContainer
		c.PackageURL = imagePURL(src)
		c.BOMRef = c.PackageURL
		kv = append(kv, propImageID, src.ImageID)
		for _, t := range src.RepoTags {
			kv = append(kv, propRepoTag, t)
		}
		for _, d := range src.RepoDigests {
			kv = append(kv, propRepoDigest, d)
		}
		for _, l := range src.Layers {
			kv = append(kv, propDiffID, l.DiffID)
		}
	default:
		c.Type = cdx.ComponentTypeApplication
		kv = append(kv, propCommit, src.Commit)
	}
	for _, w := range inv.Warnings {
		kv = append(kv, propWarning, w)
	}
	if c.BOMRef == "" {
		c.BOMRef = string(src.Kind) + ":" + shortID(src.Name)
	}
	c.Properties = props(kv...)
	return c
}

func isOSPackage(p *inventory.Package) bool {
	switch p.Type {
	case inventory.TypeDpkg, inventory.TypeApk, inventory.TypeRPM:
		return true
	}
	return false
}

// packageRef is a component's bom-ref: its purl made unique by the
// package's identity in the inventory (the same purl can occur at several
// paths).
func packageRef(p *inventory.Package) string {
	base := p.PURL
	if base == "" {
		base = "pkg:" + p.Type + "/" + p.Name + "@" + p.Version
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "package-id=" + shortID(p.ID())
}

// props builds properties from key, value pairs, leaving out empty values.
func props(kv ...string) *[]cdx.Property {
	var out []cdx.Property
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			out = append(out, cdx.Property{Name: kv[i], Value: kv[i+1]})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

func boolProp(b bool) string {
	if !b {
		return ""
	}
	return strconv.FormatBool(b)
}

func nonEmpty(s []string) *[]string {
	if len(s) == 0 {
		return nil
	}
	return &s
}
