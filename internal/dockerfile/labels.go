package dockerfile

import (
	_ "embed"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

//go:embed spdx_ids.txt
var spdxList string

// spdxIDs returns the SPDX license and exception identifiers, lower-cased
// (SPDX matching is case-insensitive). The set is built from the embedded
// list on first use and never changes after: a constant table, not state.
var spdxIDs = sync.OnceValue(func() map[string]bool {
	ids := map[string]bool{}
	for _, l := range strings.Split(spdxList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ids[strings.ToLower(l)] = true
		}
	}
	return ids
})

// semverRE is the regular expression semver.org gives for SemVer 2.0.0.
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

var gitHashRE = regexp.MustCompile(`^(?:[0-9a-f]{7}|[0-9a-f]{40})$`)

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// validLabelValue checks a label value against its schema type. Values with
// variables are not expanded, so they only pass as text.
func validLabelValue(t LabelType, v string) bool {
	switch t {
	case LabelURL:
		u, err := url.Parse(v)
		return err == nil && u.Scheme != "" && schemeRE.MatchString(u.Scheme) && (u.Opaque != "" || u.Host != "" || u.Path != "")
	case LabelRFC3339:
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	case LabelSPDX:
		return validSPDX(v)
	case LabelHash:
		return gitHashRE.MatchString(v)
	case LabelSemver:
		return semverRE.MatchString(v)
	case LabelEmail:
		a, err := mail.ParseAddress(v)
		return err == nil && a.Name == "" && a.Address == v
	}
	return true
}

// validSPDX accepts an SPDX license expression: identifiers (optionally with
// a trailing +), LicenseRef-/DocumentRef- references, AND, OR, WITH and
// parentheses.
func validSPDX(expr string) bool {
	ids := spdxIDs()
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(expr))
	p := &spdxParser{toks: toks, ids: ids}
	return len(toks) > 0 && p.expr() && p.pos == len(toks)
}

type spdxParser struct {
	toks []string
	pos  int
	ids  map[string]bool
}

func (p *spdxParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *spdxParser) expr() bool {
	if !p.term() {
		return false
	}
	for op := strings.ToUpper(p.peek()); op == "AND" || op == "OR"; op = strings.ToUpper(p.peek()) {
		p.pos++
		if !p.term() {
			return false
		}
	}
	return true
}

func (p *spdxParser) term() bool {
	t := p.peek()
	switch {
	case t == "(":
		p.pos++
		if !p.expr() || p.peek() != ")" {
			return false
		}
		p.pos++
	case p.license(t):
		p.pos++
	default:
		return false
	}
	if strings.ToUpper(p.peek()) == "WITH" {
		p.pos++
		if !p.ids[strings.ToLower(p.peek())] {
			return false
		}
		p.pos++
	}
	return true
}

func (p *spdxParser) license(t string) bool {
	if hasAnyPrefix(t, "LicenseRef-", "DocumentRef-") {
		return len(t) > len("LicenseRef-")
	}
	return p.ids[strings.ToLower(strings.TrimSuffix(t, "+"))]
}
