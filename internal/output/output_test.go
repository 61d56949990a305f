package output

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

func testRegistry() *Registry[Writer[string]] {
	write := func(prefix string) Writer[string] {
		return func(w io.Writer, s string) error { _, err := io.WriteString(w, prefix+s); return err }
	}
	return NewRegistry("test",
		Format[Writer[string]]{Name: "plain", Writer: write("")},
		Format[Writer[string]]{Name: "loud", Aliases: []string{"shout"}, Writer: write("!")},
	)
}

func TestLookup(t *testing.T) {
	r := testRegistry()
	for _, tc := range []struct{ name, canonical, out string }{
		{"plain", "plain", "x"},
		{"LOUD", "loud", "!x"},
		{" shout ", "loud", "!x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, w, err := r.Lookup(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := w(&b, "x"); err != nil {
				t.Fatal(err)
			}
			if n != tc.canonical || b.String() != tc.out {
				t.Errorf("Lookup(%q) = %q writing %q, want %q writing %q", tc.name, n, b.String(), tc.canonical, tc.out)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	_, w, err := testRegistry().Lookup("yaml")
	if w != nil || !errors.Is(err, outcome.ErrUsage) {
		t.Fatalf("Lookup(yaml) = %v, %v; want a usage error", w != nil, err)
	}
	if want := `unknown format "yaml" for test (want plain, loud)`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestNames(t *testing.T) {
	r := testRegistry()
	if diff := cmp.Diff([]string{"plain", "loud"}, r.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"plain", "loud", "shout"}, r.AllNames()); diff != "" {
		t.Errorf("AllNames (-want +got):\n%s", diff)
	}
}

func TestDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a name registered twice")
		}
	}()
	NewRegistry("dup", Format[int]{Name: "a"}, Format[int]{Name: "b", Aliases: []string{"A"}})
}
