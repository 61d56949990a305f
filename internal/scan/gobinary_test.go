package scan_test

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan"
	"github.com/tollgate-dev/tollgate/internal/scan/scantest"
)

// goRecords are Go vulnerability records (ours, IDs of the fixture range)
// about the modules of scantest.GoBinary, which imports
// golang.org/x/net/html and no other package of golang.org/x/net.
var goRecords = map[string]string{
	// The package the binary imports.
	"GO-2099-0101": `{"id":"GO-2099-0101","modified":"2024-03-01T00:00:00Z","summary":"html flaw",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.13.0"}]}],
	    "ecosystem_specific":{"imports":[{"path":"golang.org/x/net/html","symbols":["Parse"]}]}}]}`,
	// A package of the same module the binary was built without, and a
	// GHSA record of the same CVE that names no packages: neither matches.
	"GO-2099-0102": `{"id":"GO-2099-0102","modified":"2024-03-01T00:00:00Z","aliases":["CVE-2099-50102","GHSA-tg00-0000-0102"],"summary":"http2 flaw",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.17.0"}]}],
	    "ecosystem_specific":{"imports":[{"path":"golang.org/x/net/http2"},{"path":"golang.org/x/net/http2/hpack"}]}}]}`,
	"GHSA-tg00-0000-0102": `{"id":"GHSA-tg00-0000-0102","modified":"2024-03-01T00:00:00Z","aliases":["CVE-2099-50102","GO-2099-0102"],"summary":"http2 flaw",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.17.0"}]}]}]}`,
	// A record that names no packages: the whole module.
	"GO-2099-0103": `{"id":"GO-2099-0103","modified":"2024-03-01T00:00:00Z","summary":"module-wide flaw",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.8.0"}]}]}]}`,
	// The standard library: fmt is in the binary, net/http is not.
	"GO-2099-0104": `{"id":"GO-2099-0104","modified":"2024-03-01T00:00:00Z","summary":"fmt flaw",
	  "affected":[{"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}],
	    "ecosystem_specific":{"imports":[{"path":"fmt"}]}}]}`,
	"GO-2099-0105": `{"id":"GO-2099-0105","modified":"2024-03-01T00:00:00Z","summary":"net/http flaw",
	  "affected":[{"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}],
	    "ecosystem_specific":{"imports":[{"path":"net/http"}]}}]}`,
}

// codeRows lists a report's findings with the explanation of how the
// packages of the record bore on them.
func codeRows(r *report.Report) []string {
	var out []string
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			code := ""
			if v.Explanation != nil {
				code = v.Explanation.Code
			}
			out = append(out, res.Target+" | "+v.PkgName+" | "+v.VulnerabilityID+" | "+code)
		}
	}
	return out
}

// unreadableFuncTable returns a copy of an ELF Go binary whose function
// table header is destroyed: the build information still names the
// modules, the packages are unknown.
func unreadableFuncTable(t *testing.T, bin []byte) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(".gopclntab")
	if s == nil {
		t.Fatal("the test binary has no .gopclntab section")
	}
	out := append([]byte(nil), bin...)
	copy(out[s.Offset:], "\x00\x00\x00\x00")
	return out
}

// TestScanGoBinaryPackages scans real Go binaries, unstripped and
// stripped (-s -w), built with golang.org/x/net but only its html
// package: records about html match, records about x/net's http2 (and
// its GHSA alias) do not; a record naming no packages, a binary whose
// package list cannot be read and a go.mod match by module and say so.
func TestScanGoBinaryPackages(t *testing.T) {
	bin := goBinary(t)
	stripped := scantest.StrippedGoBinary(t)
	if bytes.Equal(bin, stripped) {
		t.Fatal("the stripped binary is the unstripped one")
	}
	if f, err := elf.NewFile(bytes.NewReader(stripped)); err != nil || f.Section(".symtab") != nil {
		t.Fatalf("the -s -w binary still has a symbol table (%v)", err)
	}
	img := registrytest.Image(t, registrytest.Layer(t,
		registrytest.Entry{Name: "app/full", Body: string(bin), Mode: 0o755},
		registrytest.Entry{Name: "app/stripped", Body: string(stripped), Mode: 0o755},
		registrytest.Entry{Name: "app/unreadable", Body: string(unreadableFuncTable(t, stripped)), Mode: 0o755},
	))
	input, _ := writeImage(t, img, "docker-archive")
	db := matchtest.RecordsDB(t, goRecords)
	r, err := scan.Run(context.Background(), db, scan.Options{Kind: scan.KindImage, Input: input, Now: now, Inventory: inventory.Options{CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range []string{"app/full", "app/stripped"} {
		want = append(want,
			p+" | golang.org/x/net | GO-2099-0101 | the binary contains golang.org/x/net/html, a package GO-2099-0101 names",
			p+" | golang.org/x/net | GO-2099-0103 | matched by module: GO-2099-0103 names no packages of it",
			p+" | stdlib | GO-2099-0104 | the binary contains fmt, a package GO-2099-0104 names",
		)
	}
	unread := func(pkg, id, rec, names string) string {
		return fmt.Sprintf("app/unreadable | %s | %s | matched by module: %s names the packages %s, but the binary's package list could not be read: the binary has no Go function table", pkg, id, rec, names)
	}
	want = append(want,
		unread("golang.org/x/net", "CVE-2099-50102", "GO-2099-0102", "golang.org/x/net/http2, golang.org/x/net/http2/hpack"),
		unread("golang.org/x/net", "GO-2099-0101", "GO-2099-0101", "golang.org/x/net/html"),
		"app/unreadable | golang.org/x/net | GO-2099-0103 | matched by module: GO-2099-0103 names no packages of it",
		unread("stdlib", "GO-2099-0104", "GO-2099-0104", "fmt"),
		unread("stdlib", "GO-2099-0105", "GO-2099-0105", "net/http"),
	)
	if d := cmp.Diff(want, codeRows(r)); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}

	// The source of the same program: go.mod names modules, not packages,
	// so every x/net record matches by module.
	src := t.TempDir()
	gomod := "module example.com/webapp\n\ngo 1.22\n\nrequire golang.org/x/net v0.7.0\n"
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = scan.Run(context.Background(), db, scan.Options{Kind: scan.KindFS, Target: src, Now: now, Inventory: inventory.Options{CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	viaGoMod := "matched by module: %s names the packages %s, but go.mod lists modules, not the packages built of them"
	want = []string{
		"go.mod | golang.org/x/net | CVE-2099-50102 | " + fmt.Sprintf(viaGoMod, "GO-2099-0102", "golang.org/x/net/http2, golang.org/x/net/http2/hpack"),
		"go.mod | golang.org/x/net | GO-2099-0101 | " + fmt.Sprintf(viaGoMod, "GO-2099-0101", "golang.org/x/net/html"),
		"go.mod | golang.org/x/net | GO-2099-0103 | matched by module: GO-2099-0103 names no packages of it",
	}
	if d := cmp.Diff(want, codeRows(r)); d != "" {
		t.Errorf("go.mod findings (-want +got):\n%s", d)
	}
}
