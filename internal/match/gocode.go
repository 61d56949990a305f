package match

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/inventory"
)

// Go vulnerability records name the packages of a module whose code is
// vulnerable (ecosystem_specific.imports). A Go binary's inventory lists
// the packages it has code of (inventory.GoCode), so a record about a
// package the binary was built without does not affect it, even though
// the module is linked in for other packages. Module-level matching stays
// whenever that cannot be decided: the record names no packages, or no
// package list is known (a go.mod dependency, a binary whose function
// table could not be read).

// goCodeKind is how a Go record's packages bore on a match.
type goCodeKind int

const (
	goCodeNotGo     goCodeKind = iota // not a Go package
	goCodeFound                       // the binary contains a package the record names
	goCodeNoImports                   // the record names no packages: the module matches
	goCodeNoList                      // no package list is known: the module matches
)

// goVerdict is what a record's packages said about one match.
type goVerdict struct {
	kind    goCodeKind
	pkg     string   // goCodeFound: the package found
	imports []string // goCodeNoList: what the record names
	why     string   // goCodeNoList: why there is no package list
}

// goCode decides whether entry af of a record affects Go package p by the
// packages it names. inBinary is false only when p's binary is known to
// contain none of them.
func goCode(p *inventory.Package, af *advisory.Affected) (v goVerdict, inBinary bool) {
	if p.Ecosystem != inventory.EcosystemGo {
		return goVerdict{}, true
	}
	imports := af.GoImports()
	switch {
	case len(imports) == 0:
		return goVerdict{kind: goCodeNoImports}, true
	case p.GoCode == nil:
		why := "no list of the binary's packages came with it (an SBOM names modules only)"
		if p.Type == inventory.TypeGoMod {
			why = "go.mod lists modules, not the packages built of them"
		}
		return goVerdict{kind: goCodeNoList, imports: imports, why: why}, true
	case p.GoCode.Unread != "":
		return goVerdict{kind: goCodeNoList, imports: imports, why: "the binary's package list could not be read: " + p.GoCode.Unread}, true
	}
	for _, im := range imports {
		if p.GoCode.HasGoPackage(im) {
			return goVerdict{kind: goCodeFound, pkg: im}, true
		}
	}
	return goVerdict{}, false
}

// withoutAbsentCode drops the groups of a vulnerability whose Go record
// names packages the binary lacks (absent): the other records folded
// into it (a GHSA alias naming no packages) describe the same code, so
// they do not bring it back. A group with a record whose packages the
// binary has stays.
func withoutAbsentCode(groups [][]candidate, absent []*advisory.Advisory) [][]candidate {
	if len(absent) == 0 {
		return groups
	}
	gone := map[string]bool{}
	for _, a := range absent {
		gone[a.ID] = true
		for _, id := range a.Aliases {
			gone[id] = true
		}
		for _, id := range reportedIDs(a) {
			gone[id] = true
		}
	}
	return slices.DeleteFunc(groups, func(g []candidate) bool {
		if slices.ContainsFunc(g, func(c candidate) bool { return c.code.kind == goCodeFound }) {
			return false
		}
		return gone[g[0].id] || slices.ContainsFunc(g, func(c candidate) bool {
			return gone[c.adv.ID] || slices.ContainsFunc(c.adv.Aliases, func(id string) bool { return gone[id] })
		})
	})
}

// codeWords explains a Go finding's match by packages, for its
// Explanation; "" when no record of the group is about Go.
func codeWords(group []candidate) string {
	var best *candidate
	for i := range group {
		c := &group[i]
		if best == nil || codeRank(c.code.kind) < codeRank(best.code.kind) {
			best = c
		}
	}
	if best == nil {
		return ""
	}
	switch c := best; c.code.kind {
	case goCodeFound:
		return fmt.Sprintf("the binary contains %s, a package %s names", c.code.pkg, c.adv.ID)
	case goCodeNoList:
		return fmt.Sprintf("matched by module: %s names the packages %s, but %s", c.adv.ID, strings.Join(c.code.imports, ", "), c.code.why)
	case goCodeNoImports:
		return fmt.Sprintf("matched by module: %s names no packages of it", c.adv.ID)
	}
	return ""
}

// codeRank orders the verdicts a finding's explanation prefers.
func codeRank(k goCodeKind) int {
	switch k {
	case goCodeFound:
		return 0
	case goCodeNoList:
		return 1
	case goCodeNoImports:
		return 2
	}
	return 3
}
