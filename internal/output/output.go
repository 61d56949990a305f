// Package output holds the convention every tollgate report follows: an
// output format is a writer of one shape, registered under its name in the
// one Registry of its report kind, and names are checked there only; and
// the one escaping of untrusted text for human-readable output.
//
// The Dockerfile lint, kube scan, policy test and SBOM reports keep their
// writers in their own packages, each with one Registry; the vulnerability
// scan's writers (table, Trivy JSON, SARIF, CycloneDX, template) are in
// internal/report.
package output

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// Writer writes a whole report of type T in one format.
type Writer[T any] func(w io.Writer, report T) error

// Stream writes a report one item at a time, for reports too long to hold
// whole (kube scan over a large stream); Close ends the output.
type Stream[T any] interface {
	Write(item T) error
	Close() error
}

// Format is one entry of a Registry: a name, its aliases and its writer.
type Format[W any] struct {
	Name    string
	Aliases []string
	Writer  W
}

// Registry is the set of output formats of one report kind. It is built
// once by NewRegistry and never changes after.
type Registry[W any] struct {
	kind    string
	names   []string // canonical names, in registration order
	byName  map[string]int
	formats []Format[W]
}

// NewRegistry returns the registry of the formats of kind (a phrase such as
// "dockerfile lint", used in messages). It panics on a duplicate name: that
// is a programming error, found by any test that builds the registry.
func NewRegistry[W any](kind string, formats ...Format[W]) *Registry[W] {
	r := &Registry[W]{kind: kind, byName: map[string]int{}, formats: formats}
	for i, f := range formats {
		r.names = append(r.names, f.Name)
		for _, n := range append([]string{f.Name}, f.Aliases...) {
			n = strings.ToLower(n)
			if _, dup := r.byName[n]; dup {
				panic(fmt.Sprintf("output: format %q registered twice for %s", n, kind))
			}
			r.byName[n] = i
		}
	}
	return r
}

// Lookup returns the canonical name and the writer of the format called
// name (case-insensitive, aliases accepted), or a usage error listing the
// valid names.
func (r *Registry[W]) Lookup(name string) (string, W, error) {
	i, ok := r.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		var zero W
		return "", zero, outcome.Usagef("unknown format %q for %s (want %s)", name, r.kind, strings.Join(r.Names(), ", "))
	}
	return r.formats[i].Name, r.formats[i].Writer, nil
}

// Check returns the usage error of Lookup for an unknown name, nil for a
// known one: commands check -f before they open -o.
func (r *Registry[W]) Check(name string) error {
	_, _, err := r.Lookup(name)
	return err
}

// Names lists the canonical format names, in registration order.
func (r *Registry[W]) Names() []string { return slices.Clone(r.names) }

// AllNames lists every accepted name, aliases included, in registration
// order.
func (r *Registry[W]) AllNames() []string {
	var out []string
	for _, f := range r.formats {
		out = append(out, f.Name)
		out = append(out, f.Aliases...)
	}
	return out
}
