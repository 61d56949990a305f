// Package sbom writes an inventory as a software bill of materials:
// CycloneDX 1.5 JSON or SPDX 2.3 JSON.
package sbom

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/tollgate-dev/tollgate/internal/buildinfo"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/output"
)

// Format is an SBOM format.
type Format string

const (
	CycloneDX Format = "cyclonedx" // CycloneDX 1.5 JSON
	SPDXJSON  Format = "spdx-json" // SPDX 2.3 JSON
)

// Document is what a format's writer gets: the inventory and the options.
type Document struct {
	Inventory *inventory.Inventory
	Options
}

// formats is the one registry of SBOM formats; names are checked here.
var formats = output.NewRegistry("SBOM",
	output.Format[output.Writer[Document]]{Name: string(CycloneDX), Writer: func(w io.Writer, d Document) error { return writeCycloneDX(w, d.Inventory, d.Options) }},
	output.Format[output.Writer[Document]]{Name: string(SPDXJSON), Writer: func(w io.Writer, d Document) error { return writeSPDX(w, d.Inventory, d.Options) }},
)

// Formats lists the formats Write understands.
func Formats() []Format {
	var out []Format
	for _, n := range formats.Names() {
		out = append(out, Format(n))
	}
	return out
}

// CheckFormat returns a usage error naming the formats when f is not one.
func CheckFormat(f Format) error {
	if f == "" {
		return nil
	}
	return formats.Check(string(f))
}

// Options control the document's metadata.
type Options struct {
	Format Format
	// ToolVersion is tollgate's version, recorded as the creating tool
	// (default buildinfo.Version).
	ToolVersion string
	// Now is the creation time (default time.Now).
	Now func() time.Time
	// NewUUID returns a random UUID (default crypto/rand); it makes the
	// CycloneDX serial number and the SPDX namespace unique.
	NewUUID func() string
}

// Write writes inv as an SBOM in the chosen format.
func Write(w io.Writer, inv *inventory.Inventory, o Options) error {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewUUID == nil {
		o.NewUUID = randomUUID
	}
	if o.ToolVersion == "" {
		o.ToolVersion = buildinfo.Version()
	}
	if o.Format == "" {
		o.Format = CycloneDX
	}
	_, write, err := formats.Lookup(string(o.Format))
	if err != nil {
		return err
	}
	return write(w, Document{Inventory: inv, Options: o})
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand aborts the program itself on a broken system
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// shortID is a stable short hash used to make identifiers unique.
func shortID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// imagePURL is the purl of an image (purl-spec "oci" type): the manifest
// digest (or, when there is none, the image ID) qualified by where it came
// from.
func imagePURL(src inventory.Source) string {
	if !src.Kind.IsImage() {
		return ""
	}
	digest := src.Digest
	if digest == "" {
		digest = src.ImageID
	}
	if digest == "" {
		return ""
	}
	name := src.Name
	repoURL := ""
	if src.Kind == inventory.KindRegistry {
		repoURL = repository(name)
		name = repoURL
	} else if len(src.RepoTags) > 0 {
		name = repository(src.RepoTags[0])
	}
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToLower(name)
	if name == "" || strings.ContainsAny(name, " \\") {
		name = "image"
	}
	var q packageurl.Qualifiers
	if src.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: src.Arch})
	}
	if repoURL != "" {
		q = append(q, packageurl.Qualifier{Key: "repository_url", Value: repoURL})
	}
	return packageurl.NewPackageURL("oci", "", name, digest, q, "").ToString()
}

// repository is an image reference without its digest and tag
// ("reg:5000/team/app:1@sha256:…" → "reg:5000/team/app").
func repository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// sourceName is the document's subject as the user named it.
func sourceName(src inventory.Source) string {
	if src.Name != "" {
		return src.Name
	}
	return "unknown"
}

// spdxIDRE and expressionRE decide whether a license string can stand as
// an SPDX license expression (short identifiers joined by AND/OR/WITH,
// optional parentheses and "+"). Whether each identifier is on the SPDX
// license list is not checked; anything else becomes a LicenseRef.
var (
	spdxIDRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-]*\+?$`)
	expressionOp = map[string]bool{"AND": true, "OR": true, "WITH": true}
)

func isLicenseExpression(s string) bool {
	s = strings.NewReplacer("(", " ", ")", " ").Replace(s)
	tokens := strings.Fields(s)
	if len(tokens) == 0 {
		return false
	}
	wantID := true
	for _, t := range tokens {
		if wantID {
			if !spdxIDRE.MatchString(t) || expressionOp[t] {
				return false
			}
		} else if !expressionOp[t] {
			return false
		}
		wantID = !wantID
	}
	return !wantID
}
