package match_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
)

var (
	debian12 = &inventory.OS{Family: "debian", Name: "12.5", VersionID: "12"}
	debian11 = &inventory.OS{Family: "debian", Name: "11.9", VersionID: "11"}
	alpine19 = &inventory.OS{Family: "alpine", Name: "3.19.1", VersionID: "3.19.1"}
)

func deb(name, ver, src, srcVer string) inventory.Package {
	return inventory.Package{Name: name, Version: ver, SrcName: src, SrcVersion: srcVer, Ecosystem: "Debian", Type: inventory.TypeDpkg, Maintainer: "Debian Maintainers <maint@lists.debian.org>"}
}

func lang(eco, typ, name, ver string) inventory.Package {
	return inventory.Package{Name: name, Version: ver, Ecosystem: eco, Type: typ, FilePath: "app/" + name}
}

// row is a finding in one line: the fields a report shows.
func row(f match.Finding) string {
	return fmt.Sprintf("%s %s %s %s fixed=%q %s/%s vendor=%s", f.Package.Name, f.InstalledVersion, f.VulnerabilityID, f.Status, f.FixedVersion, f.Severity, f.SeveritySource, strings.Join(f.VendorIDs, ","))
}

func TestMatch(t *testing.T) {
	db := matchtest.DB(t)
	tests := []struct {
		name  string
		in    match.Input
		want  []string
		skips []string // "name reason"
	}{
		{
			name: "debian source package, DSA split per CVE and merged with DEBIAN-CVE",
			in: match.Input{OS: debian12, Packages: []inventory.Package{
				deb("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
				deb("openssl", "3.0.11-1~deb12u3", "openssl", "3.0.11-1~deb12u3"),
			}},
			want: []string{
				// Only the DSA covers CVE-2023-50002 on Debian 12; its
				// severity comes from DEBIAN-CVE-2023-50002 (a Debian 11
				// record), never from the DSA's other CVE.
				`libssl3 3.0.11-1~deb12u2 CVE-2023-50002 fixed fixed="3.0.11-1~deb12u3" CRITICAL/nvd vendor=DSA-9001-1`,
				// Debian's urgency "high" beats the NVD vector (LOW).
				`libssl3 3.0.11-1~deb12u2 CVE-2023-50001 fixed fixed="3.0.11-1~deb12u3" HIGH/debian vendor=DSA-9001-1`,
			},
		},
		{
			name: "unfixed, will_not_fix and unimportant",
			in:   match.Input{OS: debian12, Packages: []inventory.Package{deb("libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7")}},
			want: []string{
				`libc6 2.36-9+deb12u7 CVE-2024-50004 will_not_fix fixed="" MEDIUM/nvd vendor=`,
				`libc6 2.36-9+deb12u7 CVE-2024-50003 affected fixed="" LOW/debian vendor=`,
			},
		},
		{
			name: "binNMU binary matches its source version",
			in: match.Input{OS: &inventory.OS{Family: "debian", Name: "11.9", VersionID: "11"}, Packages: []inventory.Package{
				deb("zlib1g", "1:1.2.11.dfsg-2+b1", "zlib", "1:1.2.11.dfsg-2"),
			}},
			want: []string{`zlib1g 1:1.2.11.dfsg-2+b1 CVE-2024-50005 fixed fixed="1:1.2.11.dfsg-2+deb11u2" HIGH/debian vendor=`},
		},
		{
			name: "Debian 10 release of the same source",
			in: match.Input{OS: &inventory.OS{Family: "debian", Name: "10.13", VersionID: "10"}, Packages: []inventory.Package{
				deb("zlib1g", "1:1.2.11.dfsg-1", "zlib", "1:1.2.11.dfsg-1"),
			}},
			want: []string{`zlib1g 1:1.2.11.dfsg-1 CVE-2024-50005 fixed fixed="1:1.2.11.dfsg-1+deb10u2" HIGH/debian vendor=`},
		},
		{
			name: "release decides: the Debian 11 records do not match Debian 12",
			in:   match.Input{OS: debian12, Packages: []inventory.Package{deb("zlib1g", "1:1.2.11.dfsg-2+b1", "zlib", "1:1.2.11.dfsg-2")}},
		},
		{
			name: "Debian 11 openssl: DLA and two DEBIAN-CVE records",
			in:   match.Input{OS: debian11, Packages: []inventory.Package{deb("libssl1.1", "1.1.1n-0+deb11u5", "openssl", "1.1.1n-0+deb11u5")}},
			want: []string{
				`libssl1.1 1.1.1n-0+deb11u5 CVE-2023-50002 fixed fixed="1.1.1w-0+deb11u2" CRITICAL/nvd vendor=DLA-9002-1`,
				`libssl1.1 1.1.1n-0+deb11u5 CVE-2023-50001 fixed fixed="1.1.1w-0+deb11u2" MEDIUM/debian vendor=DLA-9002-1`,
			},
		},
		{
			name:  "third-party repository package is listed, not matched",
			in:    match.Input{OS: debian12, Packages: []inventory.Package{{Name: "nginx", Version: "1.25.3-1~bookworm", Ecosystem: "Debian", Type: inventory.TypeDpkg, Maintainer: "NGINX Packaging <nginx-packaging@f5.com>"}}},
			skips: []string{"nginx third-party"},
		},
		{
			name: "apk origin",
			in: match.Input{OS: alpine19, Packages: []inventory.Package{
				{Name: "libcrypto3", Version: "3.1.4-r5", SrcName: "openssl", SrcVersion: "3.1.4-r5", Ecosystem: "Alpine", Type: inventory.TypeApk},
				{Name: "musl", Version: "1.2.4-r3", SrcName: "musl", SrcVersion: "1.2.4-r3", Ecosystem: "Alpine", Type: inventory.TypeApk},
			}},
			want: []string{`libcrypto3 3.1.4-r5 CVE-2024-50010 fixed fixed="3.1.4-r6" HIGH/nvd vendor=`},
		},
		{
			name: "go module: GO and GHSA records of one CVE fold into it",
			in: match.Input{Packages: []inventory.Package{
				lang("Go", inventory.TypeGoBinary, "golang.org/x/net", "0.7.0"),
				lang("Go", inventory.TypeGoBinary, "stdlib", "1.22.0"),
				lang("Go", inventory.TypeGoBinary, "golang.org/x/text", "0.3.0"),
			}},
			want: []string{
				`golang.org/x/net 0.7.0 CVE-2099-50020 fixed fixed="0.13.0" MEDIUM/ghsa vendor=GHSA-tg00-0000-0001,GO-2099-0001`,
				`stdlib 1.22.0 GO-2099-0002 fixed fixed="1.22.1" UNKNOWN/ vendor=`,
			},
		},
		{
			name: "PyPI names are compared PEP 503-normalised; versions lists count",
			in:   match.Input{Packages: []inventory.Package{lang("PyPI", inventory.TypePythonPkg, "PyYAML", "5.4.1")}},
			want: []string{`PyYAML 5.4.1 CVE-2099-50030 fixed fixed="5.4.2" UNKNOWN/ vendor=PYSEC-2099-1`},
		},
		{
			name: "npm and Maven",
			in: match.Input{Packages: []inventory.Package{
				lang("npm", inventory.TypeNodePkg, "lodash", "4.17.20"),
				lang("npm", inventory.TypeNodePkg, "lodash", "4.17.21"),
				lang("npm", inventory.TypeNodePkg, "qs", "6.7.0"),
				lang("Maven", inventory.TypeJar, "org.apache.commons:commons-text", "1.9"),
			}},
			want: []string{
				`lodash 4.17.20 CVE-2099-50040 fixed fixed="4.17.21" HIGH/ghsa vendor=GHSA-tg00-0000-0002`,
				`org.apache.commons:commons-text 1.9 GHSA-tg00-0000-0003 fixed fixed="1.10.0" CRITICAL/ghsa vendor=`,
				`qs 6.7.0 CVE-2099-50050 fixed fixed="6.7.3" HIGH/ghsa vendor=GHSA-tg00-0000-0004`,
			},
		},
		{
			name: "what is not matched is listed",
			in: match.Input{OS: &inventory.OS{Family: "debian", Name: "trixie/sid"}, Packages: []inventory.Package{
				deb("libc6", "2.37-1", "glibc", "2.37-1"),
				lang("PyPI", inventory.TypePythonPkg, "requests", "not a version!"),
				lang("RubyGems", inventory.TypeBundler, "rack", "2.0.0"),
				lang("Go", inventory.TypeGoBinary, "example.com/app", ""),
			}},
			skips: []string{"libc6 no-data", "requests invalid-version", "rack no-data", "example.com/app no-version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := match.Match(db, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got, skips []string
			for _, f := range res.Findings {
				got = append(got, row(f))
			}
			for _, s := range res.Skipped {
				skips = append(skips, s.Package.Name+" "+string(s.Reason))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.skips, skips); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExplanation(t *testing.T) {
	db := matchtest.DB(t)
	res, err := match.Match(db, match.Input{OS: debian11, Packages: []inventory.Package{deb("zlib1g", "1:1.2.11.dfsg-2+b1", "zlib", "1:1.2.11.dfsg-2")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(res.Findings))
	}
	got := res.Findings[0].Explanation
	want := match.Explanation{
		Record:    "DEBIAN-CVE-2024-50005",
		Records:   []string{"DEBIAN-CVE-2024-50005"},
		Ecosystem: "Debian:11",
		Package:   "zlib",
		Compared:  "1:1.2.11.dfsg-2",
		Range:     "introduced 0, fixed 1:1.2.11.dfsg-2+deb11u2",
		Ordering:  "dpkg",
		Severity:  `debian_urgency "high" in DEBIAN-CVE-2024-50005 (debian): HIGH`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("explanation (-want +got):\n%s", diff)
	}
	f := res.Findings[0]
	if f.Title != "zlib: fixture heap overflow in inflate" || f.PrimaryURL != "https://nvd.nist.gov/vuln/detail/CVE-2024-50005" || f.DataSource.ID != "debian" {
		t.Errorf("title %q, primary URL %q, data source %+v", f.Title, f.PrimaryURL, f.DataSource)
	}
}
