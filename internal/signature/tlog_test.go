package signature

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// TestRequireTlog: with an offline trusted root and log entries required,
// a keyed bundle without a transparency log entry does not count.
func TestRequireTlog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	os.WriteFile(path, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`), 0o644)
	tr, err := LoadTrustedRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := registrytest.StartRegistry(t, registrytest.WithReferrers())
	k := newTestKey(t, "ecdsa-p256")
	repo := reg.Host + "/app"
	d := pushImage(t, repo+":1", "x")
	pushBundle(t, repo, d, sigstoreBundle(t, k, statement(d, CosignSignPredicateType, map[string]any{}, nil)), CosignSignPredicateType)
	res := run(t, Options{Image: repo + ":1", Keys: []Key{k.pub}})
	want(t, res, true, "")
	res = run(t, Options{Image: repo + ":1", Keys: []Key{k.pub}, TrustedRoot: tr, RequireTlog: true})
	want(t, res, false, "no valid signature: no transparency log entry verifies against the trusted root")

	os.WriteFile(path, []byte(`{"mediaType":"nope"`), 0o644)
	if _, err := LoadTrustedRoot(path); err == nil || !strings.Contains(err.Error(), "reading trusted root") {
		t.Errorf("bad trusted root: %v", err)
	}
}
