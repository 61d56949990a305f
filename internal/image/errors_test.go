package image

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestRegistryError(t *testing.T) {
	notFound := &transport.Error{StatusCode: 404, Errors: []transport.Diagnostic{{Code: transport.ManifestUnknownErrorCode, Message: "manifest unknown"}}}
	tests := []struct {
		err        error
		want       string
		mustNotSay []string
	}{
		{fmt.Errorf("HEAD x: %w", notFound), "not found at the registry (HTTP 404): manifest unknown", []string{"HEAD", "unexpected status"}},
		{&transport.Error{StatusCode: 401}, "the registry wants credentials (give them with the Docker config or --registry-config) (HTTP 401)", nil},
		{&transport.Error{StatusCode: 502}, "the registry answered Bad Gateway (HTTP 502)", nil},
	}
	for _, tt := range tests {
		got := RegistryError(tt.err).Error()
		if got != tt.want {
			t.Errorf("%v:\n got %q\nwant %q", tt.err, got, tt.want)
		}
		for _, s := range tt.mustNotSay {
			if strings.Contains(got, s) {
				t.Errorf("%q says %q", got, s)
			}
		}
	}
	// A real HEAD to a registry that has no such tag, and a refused
	// connection.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`)
	}))
	defer srv.Close()
	_, err := Digest(context.Background(), strings.TrimPrefix(srv.URL, "http://")+"/app:1", Options{})
	if err == nil {
		t.Fatal("no error")
	}
	if got := RegistryError(err).Error(); strings.Contains(got, "http://") || !strings.Contains(got, "HTTP 404") {
		t.Errorf("404: %q", got)
	}
	srv.Close()
	_, err = Digest(context.Background(), strings.TrimPrefix(srv.URL, "http://")+"/app:1", Options{})
	if got := RegistryError(err).Error(); !strings.Contains(got, "cannot be reached: connection refused") {
		t.Errorf("refused: %q", got)
	}
}
