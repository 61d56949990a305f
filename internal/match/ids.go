package match

import (
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/version"
)

// vendorCVEPrefixes are the prefixes of records that are one distro's
// view of one CVE (DEBIAN-CVE-2023-1234 is Debian's CVE-2023-1234).
var vendorCVEPrefixes = []string{"DEBIAN-", "ALPINE-", "UBUNTU-"}

// isVendorCVE reports whether id is a distro's record of one CVE.
func isVendorCVE(id string) bool {
	for _, p := range vendorCVEPrefixes {
		if strings.HasPrefix(id, p+"CVE-") {
			return true
		}
	}
	return false
}

// cveOf returns the CVE a vendor CVE record is about.
func cveOf(id string) string {
	for _, p := range vendorCVEPrefixes {
		if rest, ok := strings.CutPrefix(id, p); ok && strings.HasPrefix(rest, "CVE-") {
			return rest
		}
	}
	return id
}

// cveIDs returns the distinct CVEs a record names in its upstream and
// aliases (DEBIAN-CVE-X counts as CVE-X), in order.
func cveIDs(a *advisory.Advisory) []string {
	var out []string
	for _, list := range [][]string{a.Upstream, a.Aliases} {
		for _, id := range list {
			c := cveOf(id)
			if strings.HasPrefix(c, "CVE-") && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// isMultiAdvisory reports whether a record is an advisory that can cover
// several CVEs (Debian's DSA, DLA and DTSA).
func isMultiAdvisory(id string) bool {
	for _, p := range []string{"DSA-", "DLA-", "DTSA-"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// reportedIDs returns the IDs a matching record is reported under:
//   - a CVE record, under its ID;
//   - a distro's record of one CVE (DEBIAN-CVE-…, ALPINE-CVE-…), under the
//     CVE (its upstream);
//   - a DSA/DLA/DTSA, under each CVE it covers (its own ID when it names
//     none);
//   - any other record (GHSA, PYSEC, GO, RUSTSEC…), under its one CVE
//     alias when it has exactly one, else under its own ID.
func reportedIDs(a *advisory.Advisory) []string {
	switch {
	case strings.HasPrefix(a.ID, "CVE-"):
		return []string{a.ID}
	case isVendorCVE(a.ID):
		return []string{cveOf(a.ID)}
	case isMultiAdvisory(a.ID):
		if cves := cveIDs(a); len(cves) > 0 {
			return cves
		}
		return []string{a.ID}
	}
	if cves := cveIDs(a); len(cves) == 1 {
		return cves
	}
	return []string{a.ID}
}

// primaryURL is the page a report links a vulnerability to.
func primaryURL(id string) string {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://nvd.nist.gov/vuln/detail/" + id
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + id
	case isMultiAdvisory(id):
		return "https://security-tracker.debian.org/tracker/" + id
	case strings.HasPrefix(id, "GO-"):
		return "https://pkg.go.dev/vuln/" + id
	}
	return "https://osv.dev/vulnerability/" + id
}

// dataSource names the database the record of a finding came from.
func dataSource(record, eco string) DataSource {
	prefix, _, _ := strings.Cut(record, "-")
	switch prefix {
	case "DSA", "DLA", "DTSA", "DEBIAN":
		return DataSource{ID: "debian", Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"}
	case "ALPINE":
		return DataSource{ID: "alpine", Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"}
	case "UBUNTU", "USN":
		return DataSource{ID: "ubuntu", Name: "Ubuntu CVE Tracker", URL: "https://git.launchpad.net/ubuntu-cve-tracker"}
	case "GHSA":
		return DataSource{ID: "ghsa", Name: "GitHub Security Advisory " + version.Base(eco), URL: "https://github.com/advisories"}
	case "GO":
		return DataSource{ID: "govulndb", Name: "The Go Vulnerability Database", URL: "https://pkg.go.dev/vuln/"}
	case "PYSEC":
		return DataSource{ID: "pypa", Name: "Python Packaging Advisory Database", URL: "https://github.com/pypa/advisory-database"}
	case "RUSTSEC":
		return DataSource{ID: "rustsec", Name: "RustSec Advisory Database", URL: "https://github.com/rustsec/advisory-db"}
	}
	return DataSource{ID: "osv", Name: "OSV", URL: "https://osv.dev/"}
}
