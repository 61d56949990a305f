package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJoinSeverities(t *testing.T) {
	tests := []struct {
		name              string
		sev, args         []string
		wantSev, wantArgs []string
	}{
		{"the seed's spelling", []string{"HIGH,"}, []string{"CRITICAL", "nginx"}, []string{"HIGH,CRITICAL"}, []string{"nginx"}},
		{"three words", []string{"LOW,"}, []string{"MEDIUM,", "HIGH", "nginx"}, []string{"LOW,MEDIUM,HIGH"}, []string{"nginx"}},
		{"no trailing comma", []string{"HIGH"}, []string{"CRITICAL", "nginx"}, []string{"HIGH"}, []string{"CRITICAL", "nginx"}},
		{"an image after the comma", []string{"HIGH,"}, []string{"nginx"}, []string{"HIGH,"}, []string{"nginx"}},
		{"lower case is an image name", []string{"HIGH,"}, []string{"critical"}, []string{"HIGH,"}, []string{"critical"}},
		{"no -s", nil, []string{"CRITICAL"}, nil, []string{"CRITICAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sev, args := joinSeverities(tt.sev, tt.args)
			if diff := cmp.Diff(tt.wantSev, sev); diff != "" {
				t.Errorf("severities (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantArgs, args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}
