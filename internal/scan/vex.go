package scan

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// VEXStatement is one statement that a vulnerability does not affect
// some products (OpenVEX not_affected / fixed; CycloneDX analysis states
// not_affected, false_positive, resolved). The vulnerability may also be
// a secret rule or an image check ID, with the image (pkg:oci/…) as the
// product.
type VEXStatement struct {
	Vulnerability string
	// Products are the package URLs the statement covers (an OpenVEX
	// product's @id and its subcomponents; CycloneDX affects[].ref).
	Products  []string
	Status    string // not_affected or fixed, as the report shows it
	Statement string // justification and impact statement
	Source    string // the file
}

// suppresses reports whether the statement is about the finding: its ID
// and one of the products its package (for secrets and image checks, the
// image) is.
func (s *VEXStatement) suppresses(f *subject) bool {
	if !slices.Contains(f.ids, s.Vulnerability) || f.purl == "" {
		return false
	}
	return anyPURL(s.Products, f.purl)
}

// maxVEX bounds a VEX document read.
const maxVEX = 64 << 20

// LoadVEX reads OpenVEX or CycloneDX VEX documents (JSON).
func LoadVEX(paths []string) ([]VEXStatement, error) {
	var out []VEXStatement
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, outcome.Usagef("reading VEX %s: %v", p, pathError(err))
		}
		if fi.Size() > maxVEX {
			return nil, outcome.Usagef("VEX %s: larger than %d bytes", p, maxVEX)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, outcome.Usagef("reading VEX %s: %v", p, pathError(err))
		}
		sts, err := parseVEX(p, data)
		if err != nil {
			return nil, outcome.Usagef("%v", err)
		}
		out = append(out, sts...)
	}
	return out, nil
}

func parseVEX(file string, data []byte) ([]VEXStatement, error) {
	var probe struct {
		Context   string          `json:"@context"`
		BOMFormat string          `json:"bomFormat"`
		Vulns     json.RawMessage `json:"vulnerabilities"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return nil, fmt.Errorf("VEX %s is not a JSON object", file)
	}
	switch {
	case strings.HasPrefix(probe.Context, "https://openvex.dev/ns"):
		return parseOpenVEX(file, data)
	case probe.BOMFormat == "CycloneDX":
		return parseCycloneDXVEX(file, data)
	}
	return nil, fmt.Errorf("VEX %s is neither OpenVEX (@context https://openvex.dev/ns…) nor CycloneDX (bomFormat)", file)
}

func parseOpenVEX(file string, data []byte) ([]VEXStatement, error) {
	type ident struct {
		ID          string            `json:"@id"`
		Identifiers map[string]string `json:"identifiers"`
	}
	var doc struct {
		Statements []struct {
			Vulnerability json.RawMessage `json:"vulnerability"`
			Products      []struct {
				ident
				Subcomponents []ident `json:"subcomponents"`
			} `json:"products"`
			Status          string `json:"status"`
			Justification   string `json:"justification"`
			ImpactStatement string `json:"impact_statement"`
		} `json:"statements"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("OpenVEX %s: statements do not have the OpenVEX shape", file)
	}
	purlOf := func(i ident) string {
		if p := i.Identifiers["purl"]; p != "" {
			return p
		}
		return i.ID
	}
	var out []VEXStatement
	for i, st := range doc.Statements {
		if st.Status != "not_affected" && st.Status != "fixed" {
			continue
		}
		// "vulnerability": {"name": "CVE-…"} (OpenVEX 0.2) or a string (0.0.x).
		var name string
		if json.Unmarshal(st.Vulnerability, &name) != nil {
			var v struct {
				Name string `json:"name"`
				ID   string `json:"@id"`
			}
			if json.Unmarshal(st.Vulnerability, &v) != nil {
				return nil, fmt.Errorf("OpenVEX %s: statements[%d]: vulnerability is neither a name nor an object", file, i)
			}
			name = v.Name
		}
		if name == "" {
			return nil, fmt.Errorf("OpenVEX %s: statements[%d] names no vulnerability", file, i)
		}
		s := VEXStatement{Vulnerability: name, Status: st.Status, Statement: strings.TrimSpace(st.Justification + " " + st.ImpactStatement), Source: file}
		for _, p := range st.Products {
			s.Products = append(s.Products, purlOf(p.ident))
			for _, sc := range p.Subcomponents {
				s.Products = append(s.Products, purlOf(sc))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func parseCycloneDXVEX(file string, data []byte) ([]VEXStatement, error) {
	var doc struct {
		Components []struct {
			BOMRef string `json:"bom-ref"`
			PURL   string `json:"purl"`
		} `json:"components"`
		Vulnerabilities []struct {
			ID       string `json:"id"`
			Analysis struct {
				State         string `json:"state"`
				Justification string `json:"justification"`
				Detail        string `json:"detail"`
			} `json:"analysis"`
			Affects []struct {
				Ref string `json:"ref"`
			} `json:"affects"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("CycloneDX VEX %s: vulnerabilities do not have the CycloneDX shape", file)
	}
	refs := map[string]string{}
	for _, c := range doc.Components {
		if c.BOMRef != "" && c.PURL != "" {
			refs[c.BOMRef] = c.PURL
		}
	}
	var out []VEXStatement
	for _, v := range doc.Vulnerabilities {
		status := ""
		switch v.Analysis.State {
		case "not_affected", "false_positive":
			status = "not_affected"
		case "resolved":
			status = "fixed"
		default:
			continue
		}
		s := VEXStatement{Vulnerability: v.ID, Status: status, Statement: strings.TrimSpace(v.Analysis.Justification + " " + v.Analysis.Detail), Source: file}
		for _, a := range v.Affects {
			ref := a.Ref
			// A BOM-Link (urn:cdx:SERIAL/VERSION#REF) names a component
			// of another BOM by its bom-ref, which is usually its purl.
			if strings.HasPrefix(ref, "urn:cdx:") {
				if _, frag, ok := strings.Cut(ref, "#"); ok {
					ref = frag
					if u, err := url.PathUnescape(frag); err == nil {
						ref = u
					}
				}
			}
			if p, ok := refs[ref]; ok {
				ref = p
			}
			s.Products = append(s.Products, ref)
		}
		out = append(out, s)
	}
	return out, nil
}
