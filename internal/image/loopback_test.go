package image

import (
	"net/http"
	"strings"
	"testing"
)

// TestLoopbackHTTPOnly: plain HTTP goes to loopback registries only (no
// request leaves the machine for the refused hosts: the guard answers
// before the transport dials).
func TestLoopbackHTTPOnly(t *testing.T) {
	rt := loopbackHTTPOnly{http.DefaultTransport}
	for host, ok := range map[string]bool{"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:5000": true, "10.0.0.1:5000": false, "registry.local:5000": false} {
		req, _ := http.NewRequest("GET", "http://"+host+"/v2/", nil)
		_, err := rt.RoundTrip(req)
		refused := err != nil && strings.Contains(err.Error(), "refusing plain HTTP")
		if refused == ok {
			t.Errorf("%s: refused = %v, want %v (%v)", host, refused, !ok, err)
		}
	}
}
