package buildinfo

import "testing"

func TestVersion(t *testing.T) {
	for _, tc := range []struct{ linked, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3-4-gabc", "1.2.3-4-gabc"},
		{"dev", "dev"}, // a test binary has no module version
	} {
		t.Run(tc.linked, func(t *testing.T) {
			old := version
			t.Cleanup(func() { version = old })
			version = tc.linked
			if got := Version(); got != tc.want {
				t.Errorf("Version() with %q linked = %q, want %q", tc.linked, got, tc.want)
			}
		})
	}
}
