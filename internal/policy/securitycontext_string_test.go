package policy

import (
	"fmt"
	"testing"
)

func TestSecurityContextDefaultsString(t *testing.T) {
	for _, tt := range []struct {
		d    SecurityContextDefaults
		want string
	}{
		{SecurityContextDefaults{}, "none"},
		{SecurityContextDefaults{RunAsNonRoot: true, DropAllCapabilities: true}, "runAsNonRoot, dropAllCapabilities"},
	} {
		// Summary formats it with %+v: no field names or braces may show.
		if got := fmt.Sprintf("%+v", tt.d); got != tt.want {
			t.Errorf("%%+v = %q, want %q", got, tt.want)
		}
	}
}
