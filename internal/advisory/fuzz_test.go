package advisory

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseOSV: any document either is refused as not OSV or parses
// into an advisory whose kept parts are valid: every range has an
// introduced event and its versions parse, the encoding round-trips, and
// Check never panics.
func FuzzParseOSV(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "records", "*"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _, err := ParseOSV("fuzz", data)
		if err != nil {
			return
		}
		if a.ID == "" {
			t.Fatal("an advisory without an ID was accepted")
		}
		for i := range a.Affected {
			af := &a.Affected[i]
			for _, r := range af.Ranges {
				if r.Type == RangeGit {
					t.Fatal("a GIT range was kept")
				}
				intro := false
				for _, e := range r.Events {
					intro = intro || e.Kind == Introduced
				}
				if !intro {
					t.Fatalf("a range without an introduced event was kept: %+v", r)
				}
			}
			for _, v := range []string{"0", "1.0", "1.0.0", "2:1.2-3", "1.0.0-r0", "v1.2.3"} {
				af.Check(v) // an error is fine; a panic is not
			}
		}
		enc := encodeAdvisory(&a, a.Affected)
		back, err := decodeAdvisory(enc)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if back.ID != a.ID || len(back.Affected) != len(a.Affected) || len(back.Severity) != len(a.Severity) {
			t.Fatalf("round trip changed the advisory: %+v → %+v", a, back)
		}
	})
}

// FuzzDecode: stored bytes that are corrupt are an error, never a panic
// or a huge allocation.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "records", "*.json"))
	for _, file := range files {
		data, _ := os.ReadFile(file)
		a, _, err := ParseOSV(file, data)
		if err != nil {
			continue
		}
		one := encodeAdvisory(&a, a.Affected)
		f.Add(one)
		f.Add(encodeList([][]byte{one, one}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAdvisory(data)
		decodeList(data)
	})
}
