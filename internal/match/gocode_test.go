package match_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
)

// goImportRecords are records about golang.org/x/crypto and stdlib that
// name packages (ecosystem_specific.imports), or do not.
var goImportRecords = map[string]string{
	"GO-2099-0201": `{"id":"GO-2099-0201","modified":"2024-01-01T00:00:00Z","summary":"openpgp",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}],
	    "ecosystem_specific":{"imports":[{"path":"golang.org/x/crypto/openpgp"},{"path":"golang.org/x/crypto/openpgp/packet"}]}}]}`,
	// Under its CVE with a GHSA record that names no packages.
	"GO-2099-0202": `{"id":"GO-2099-0202","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-50202","GHSA-tg00-0000-0202"],"summary":"ssh",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.31.0"}]}],
	    "ecosystem_specific":{"imports":[{"path":"golang.org/x/crypto/ssh","symbols":["ServerConfig.PublicKeyCallback"]}]}}]}`,
	"GHSA-tg00-0000-0202": `{"id":"GHSA-tg00-0000-0202","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-50202"],"summary":"ssh",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.31.0"}]}]}],
	  "database_specific":{"severity":"HIGH"}}`,
	// No packages named, and a malformed imports field: the module.
	"GO-2099-0203": `{"id":"GO-2099-0203","modified":"2024-01-01T00:00:00Z","summary":"whole module",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.20.0"}]}]}]}`,
	"GO-2099-0204": `{"id":"GO-2099-0204","modified":"2024-01-01T00:00:00Z","summary":"malformed imports",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.20.0"}]}],
	    "ecosystem_specific":{"imports":"golang.org/x/crypto/ssh"}}]}`,
	// Two entries for the module: old versions in one package, newer in another.
	"GO-2099-0205": `{"id":"GO-2099-0205","modified":"2024-01-01T00:00:00Z","summary":"moved",
	  "affected":[
	    {"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.40.0"}]}],
	     "ecosystem_specific":{"imports":[{"path":"golang.org/x/crypto/scrypt"}]}},
	    {"package":{"ecosystem":"Go","name":"golang.org/x/crypto"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.40.0"}]}],
	     "ecosystem_specific":{"imports":[{"path":"golang.org/x/crypto/argon2"}]}}]}`,
	"GO-2099-0206": `{"id":"GO-2099-0206","modified":"2024-01-01T00:00:00Z","summary":"tls",
	  "affected":[{"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.99.0"}]}],
	    "ecosystem_specific":{"imports":[{"path":"crypto/tls"}]}}]}`,
	"PYSEC-2099-0207": `{"id":"PYSEC-2099-0207","modified":"2024-01-01T00:00:00Z","summary":"py",
	  "affected":[{"package":{"ecosystem":"PyPI","name":"cryptography"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"99"}]}],
	    "ecosystem_specific":{"imports":[{"path":"cryptography.x509"}]}}]}`,
}

func TestMatchGoImports(t *testing.T) {
	db := matchtest.RecordsDB(t, goImportRecords)
	crypto := func(code *inventory.GoCode) inventory.Package {
		p := lang("Go", inventory.TypeGoBinary, "golang.org/x/crypto", "0.18.0")
		p.GoCode = code
		return p
	}
	stdlib := func(code *inventory.GoCode) inventory.Package {
		p := lang("Go", inventory.TypeGoBinary, "stdlib", "1.22.0")
		p.GoCode = code
		return p
	}
	const (
		noPkgs3  = "matched by module: GO-2099-0203 names no packages of it"
		noPkgs4  = "matched by module: GO-2099-0204 names no packages of it"
		unread   = "the binary's package list could not be read: the binary has no Go function table"
		viaGoMod = "go.mod lists modules, not the packages built of them"
	)
	tests := []struct {
		name string
		pkg  inventory.Package
		want []string // "ID | explanation's code"
	}{
		{
			name: "binary with ssh and argon2, without openpgp",
			pkg:  crypto(&inventory.GoCode{Packages: []string{"golang.org/x/crypto/argon2", "golang.org/x/crypto/blake2b", "golang.org/x/crypto/ssh"}}),
			want: []string{
				"CVE-2099-50202 | the binary contains golang.org/x/crypto/ssh, a package GO-2099-0202 names",
				"GO-2099-0203 | " + noPkgs3,
				"GO-2099-0204 | " + noPkgs4,
				"GO-2099-0205 | the binary contains golang.org/x/crypto/argon2, a package GO-2099-0205 names",
			},
		},
		{
			name: "binary with openpgp/packet only",
			pkg:  crypto(&inventory.GoCode{Packages: []string{"golang.org/x/crypto/cast5", "golang.org/x/crypto/openpgp/packet"}}),
			want: []string{
				"GO-2099-0201 | the binary contains golang.org/x/crypto/openpgp/packet, a package GO-2099-0201 names",
				"GO-2099-0203 | " + noPkgs3,
				"GO-2099-0204 | " + noPkgs4,
			},
		},
		{
			// A package whose path only starts like a named one is another package.
			name: "binary with none of the named packages: the GHSA alias goes too",
			pkg:  crypto(&inventory.GoCode{Packages: []string{"golang.org/x/crypto/openpgpx", "golang.org/x/crypto/ssh/agent"}}),
			want: []string{"GO-2099-0203 | " + noPkgs3, "GO-2099-0204 | " + noPkgs4},
		},
		{
			name: "binary with no package of the module",
			pkg:  crypto(&inventory.GoCode{}),
			want: []string{"GO-2099-0203 | " + noPkgs3, "GO-2099-0204 | " + noPkgs4},
		},
		{
			name: "package list unreadable: every record, by module",
			pkg:  crypto(&inventory.GoCode{Unread: "the binary has no Go function table"}),
			want: []string{
				"CVE-2099-50202 | matched by module: GO-2099-0202 names the packages golang.org/x/crypto/ssh, but " + unread,
				"GO-2099-0201 | matched by module: GO-2099-0201 names the packages golang.org/x/crypto/openpgp, golang.org/x/crypto/openpgp/packet, but " + unread,
				"GO-2099-0203 | " + noPkgs3,
				"GO-2099-0204 | " + noPkgs4,
				"GO-2099-0205 | matched by module: GO-2099-0205 names the packages golang.org/x/crypto/scrypt, but " + unread,
			},
		},
		{
			name: "go.mod dependency: by module",
			pkg:  lang("Go", inventory.TypeGoMod, "golang.org/x/crypto", "0.18.0"),
			want: []string{
				"CVE-2099-50202 | matched by module: GO-2099-0202 names the packages golang.org/x/crypto/ssh, but " + viaGoMod,
				"GO-2099-0201 | matched by module: GO-2099-0201 names the packages golang.org/x/crypto/openpgp, golang.org/x/crypto/openpgp/packet, but " + viaGoMod,
				"GO-2099-0203 | " + noPkgs3,
				"GO-2099-0204 | " + noPkgs4,
				"GO-2099-0205 | matched by module: GO-2099-0205 names the packages golang.org/x/crypto/scrypt, but " + viaGoMod,
			},
		},
		{
			name: "fixed versions are not matched, whatever the binary holds",
			pkg: func() inventory.Package {
				p := crypto(&inventory.GoCode{Packages: []string{"golang.org/x/crypto/argon2", "golang.org/x/crypto/ssh"}})
				p.Version = "0.45.0"
				return p
			}(),
		},
		{
			name: "stdlib with crypto/tls",
			pkg:  stdlib(&inventory.GoCode{Packages: []string{"crypto/tls", "fmt"}}),
			want: []string{"GO-2099-0206 | the binary contains crypto/tls, a package GO-2099-0206 names"},
		},
		{
			name: "stdlib without crypto/tls",
			pkg:  stdlib(&inventory.GoCode{Packages: []string{"fmt", "vendor/golang.org/x/crypto/chacha20"}}),
		},
		{
			name: "other ecosystems ignore imports and explain nothing of them",
			pkg:  lang("PyPI", inventory.TypePythonPkg, "cryptography", "1.0"),
			want: []string{"PYSEC-2099-0207 | "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := match.Match(db, match.Input{Packages: []inventory.Package{tt.pkg}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.VulnerabilityID+" | "+f.Explanation.Code)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
