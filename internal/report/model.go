// Package report holds the scan report model — the shape of Trivy's JSON
// report, schema version 2, with tollgate's additions marked — and its
// writers, one per output format (table, json, sarif, cyclonedx,
// template, html), registered in one map (Formats).
//
// Writers only render: the scan pipeline (internal/scan) has already
// filtered and sorted what a report holds, so every format shows the same
// findings in the same order.
package report

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/inventory"
)

// SchemaVersion is the version of Trivy's report schema the JSON follows.
const SchemaVersion = 2

// Artifact types, as Trivy names them.
const (
	ArtifactContainerImage = "container_image"
	ArtifactFilesystem     = "filesystem"
	ArtifactRepository     = "repository"
	ArtifactCycloneDX      = "cyclonedx"
	ArtifactSPDX           = "spdx"
)

// Result classes, as Trivy names them. Secret and config results are for
// the scanners the next issues add.
const (
	ClassOSPkgs   = "os-pkgs"
	ClassLangPkgs = "lang-pkgs"
	ClassSecret   = "secret"
	ClassConfig   = "config"
)

// Report is one scan's report. Field names and JSON spellings are Trivy's;
// the fields after Results are tollgate's additions.
type Report struct {
	SchemaVersion int       `json:"SchemaVersion"`
	CreatedAt     time.Time `json:"CreatedAt"`
	ArtifactName  string    `json:"ArtifactName"`
	ArtifactType  string    `json:"ArtifactType"`
	Metadata      Metadata  `json:"Metadata"`
	Results       []Result  `json:"Results,omitempty"`

	// NotMatched lists the packages deliberately not matched, and why
	// (tollgate).
	NotMatched []NotMatched `json:"NotMatched,omitempty"`
	// Notes are things the reader should know about the scan: the tag
	// assumed, an end-of-life release, an expired ignore entry (tollgate).
	Notes []string `json:"Notes,omitempty"`
	// Severities are the severities the report was filtered to, lowest
	// first; empty means all. Not written: the table's totals use it.
	Severities []string `json:"-"`
	// Scanners are the scanners that ran (vuln, secret, misconfig); empty
	// means vuln. Not written: the table's summary columns use it.
	Scanners []string `json:"-"`
	// Inventory is what was scanned, for the SBOM formats. Not written.
	Inventory *inventory.Inventory `json:"-"`
}

// Metadata describes the scanned artifact.
type Metadata struct {
	Size        int64          `json:"Size,omitempty"`
	OS          *OS            `json:"OS,omitempty"`
	ImageID     string         `json:"ImageID,omitempty"`
	DiffIDs     []string       `json:"DiffIDs,omitempty"`
	RepoTags    []string       `json:"RepoTags,omitempty"`
	RepoDigests []string       `json:"RepoDigests,omitempty"`
	ImageConfig *v1.ConfigFile `json:"ImageConfig,omitempty"`
	Layers      []LayerInfo    `json:"Layers,omitempty"`
	RepoURL     string         `json:"RepoURL,omitempty"`
	Branch      string         `json:"Branch,omitempty"`
	Tags        []string       `json:"Tags,omitempty"`
	Commit      string         `json:"Commit,omitempty"`
}

// OS is the operating system release of the artifact.
type OS struct {
	Family string `json:"Family"`
	Name   string `json:"Name"`
	// EOSL: the release is past its end of support.
	EOSL bool `json:"EOSL,omitempty"`
}

// LayerInfo is one layer of an image.
type LayerInfo struct {
	Size   int64  `json:"Size,omitempty"`
	Digest string `json:"Digest,omitempty"`
	DiffID string `json:"DiffID"`
}

// Result is what was found in one target of the artifact: the OS
// packages, or the packages of one language file or kind.
type Result struct {
	Target          string          `json:"Target"`
	Class           string          `json:"Class"`
	Type            string          `json:"Type,omitempty"`
	Packages        []Package       `json:"Packages,omitempty"`
	Vulnerabilities []Vulnerability `json:"Vulnerabilities,omitempty"`
	// MisconfSummary, Misconfigurations and Secrets are the findings of
	// the misconfig and secret scanners (classes config and secret).
	MisconfSummary    *MisconfSummary    `json:"MisconfSummary,omitempty"`
	Misconfigurations []Misconfiguration `json:"Misconfigurations,omitempty"`
	Secrets           []Secret           `json:"Secrets,omitempty"`
	// ModifiedFindings are findings suppressed by an ignore file or a VEX
	// statement (Trivy's ExperimentalModifiedFindings).
	ModifiedFindings []ModifiedFinding `json:"ExperimentalModifiedFindings,omitempty"`
}

// Package is one package of a result.
type Package struct {
	ID         string         `json:"ID,omitempty"`
	Name       string         `json:"Name"`
	Identifier *PkgIdentifier `json:"Identifier,omitempty"`
	Version    string         `json:"Version,omitempty"`
	Arch       string         `json:"Arch,omitempty"`
	SrcName    string         `json:"SrcName,omitempty"`
	SrcVersion string         `json:"SrcVersion,omitempty"`
	Licenses   []string       `json:"Licenses,omitempty"`
	Maintainer string         `json:"Maintainer,omitempty"`
	FilePath   string         `json:"FilePath,omitempty"`
	Layer      *Layer         `json:"Layer,omitempty"`
}

// PkgIdentifier identifies a package.
type PkgIdentifier struct {
	PURL   string `json:"PURL,omitempty"`
	UID    string `json:"UID,omitempty"`
	BOMRef string `json:"BOMRef,omitempty"`
}

// Layer names the image layer a package came from.
type Layer struct {
	Digest string `json:"Digest,omitempty"`
	DiffID string `json:"DiffID,omitempty"`
}

// DataSource names the advisory database of a finding.
type DataSource struct {
	ID   string `json:"ID"`
	Name string `json:"Name"`
	URL  string `json:"URL"`
}

// CVSS is one source's CVSS rating.
type CVSS struct {
	V2Vector  string  `json:"V2Vector,omitempty"`
	V3Vector  string  `json:"V3Vector,omitempty"`
	V40Vector string  `json:"V40Vector,omitempty"`
	V2Score   float64 `json:"V2Score,omitempty"`
	V3Score   float64 `json:"V3Score,omitempty"`
	V40Score  float64 `json:"V40Score,omitempty"`
}

// Vulnerability is one finding: one vulnerability of one package.
type Vulnerability struct {
	VulnerabilityID  string          `json:"VulnerabilityID"`
	VendorIDs        []string        `json:"VendorIDs,omitempty"`
	PkgID            string          `json:"PkgID,omitempty"`
	PkgName          string          `json:"PkgName"`
	PkgPath          string          `json:"PkgPath,omitempty"`
	PkgIdentifier    PkgIdentifier   `json:"PkgIdentifier"`
	InstalledVersion string          `json:"InstalledVersion"`
	FixedVersion     string          `json:"FixedVersion,omitempty"`
	Status           string          `json:"Status,omitempty"`
	Layer            *Layer          `json:"Layer,omitempty"`
	SeveritySource   string          `json:"SeveritySource,omitempty"`
	PrimaryURL       string          `json:"PrimaryURL,omitempty"`
	DataSource       *DataSource     `json:"DataSource,omitempty"`
	Title            string          `json:"Title,omitempty"`
	Description      string          `json:"Description,omitempty"`
	Severity         string          `json:"Severity"`
	CweIDs           []string        `json:"CweIDs,omitempty"`
	VendorSeverity   map[string]int  `json:"VendorSeverity,omitempty"`
	CVSS             map[string]CVSS `json:"CVSS,omitempty"`
	References       []string        `json:"References,omitempty"`
	PublishedDate    *time.Time      `json:"PublishedDate,omitempty"`
	LastModifiedDate *time.Time      `json:"LastModifiedDate,omitempty"`
	Explanation      *Explanation    `json:"Explanation,omitempty"`
}

// Explanation says why a finding exists (tollgate).
type Explanation struct {
	Record    string   `json:"Record"`
	Records   []string `json:"Records,omitempty"`
	Ecosystem string   `json:"Ecosystem"`
	Package   string   `json:"Package"`
	Compared  string   `json:"ComparedVersion"`
	Range     string   `json:"Range"`
	Ordering  string   `json:"Ordering,omitempty"`
	Severity  string   `json:"Severity"`
	// Code says, for a Go module, whether the binary contains a package
	// the record names, or why the whole module was matched.
	Code string `json:"Code,omitempty"`
}

// ModifiedFinding is a finding an ignore file or VEX statement
// suppressed, with who said so. Type says which of Finding, Secret and
// Misconfiguration holds it; JSON has it under "Finding", as Trivy
// writes it (see modified.go).
type ModifiedFinding struct {
	Type      string        `json:"Type"`   // "vulnerability", "secret", "misconfiguration"
	Status    string        `json:"Status"` // "ignored", "not_affected", "fixed"
	Statement string        `json:"Statement,omitempty"`
	Source    string        `json:"Source"`
	Finding   Vulnerability `json:"Finding"`
	// Secret and Misconfiguration hold the finding of types "secret" and
	// "misconfiguration".
	Secret           *Secret           `json:"-"`
	Misconfiguration *Misconfiguration `json:"-"`
}

// NotMatched is a package that was not matched against advisories.
type NotMatched struct {
	PkgName  string `json:"PkgName"`
	Version  string `json:"Version,omitempty"`
	Type     string `json:"Type"`
	FilePath string `json:"FilePath,omitempty"`
	Reason   string `json:"Reason"`
	Detail   string `json:"Detail"`
	// Error: the package may be vulnerable and the scan could not tell.
	Error bool `json:"Error,omitempty"`
}

// Severities, lowest first.
var Severities = []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// VulnerabilityCount counts the report's findings.
func (r *Report) VulnerabilityCount() int {
	n := 0
	for i := range r.Results {
		n += len(r.Results[i].Vulnerabilities)
	}
	return n
}
