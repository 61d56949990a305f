package webhook

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/certs"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/signature/cosigntest"
)

// replaceFile writes a file as tools and Kubernetes do: a new file renamed
// over the old one.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const keyPolicy = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata: {name: signed}
spec:
  signatures:
    rules:
    - name: ci
      images: ["registry.example.com/**"]
      keys: [{publicKeyFile: ../keys/cosign.pub}]
`

func policyKey(t *testing.T, p *policy.Policy) []byte {
	t.Helper()
	keys := p.Signatures().Keys()
	if len(keys) != 1 {
		t.Fatalf("policy has %d keys, want 1", len(keys))
	}
	return keys[0].Key.PEM
}

// TestPolicyStoreKeyFiles: the key files a policy names reload it as the
// policy file itself does — a rotated key replaces the old one, a broken
// key keeps the policy in force, a missing key is retried once it exists.
func TestPolicyStoreKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	polDir, keyDir := filepath.Join(dir, "policy"), filepath.Join(dir, "keys")
	os.Mkdir(polDir, 0o755)
	os.Mkdir(keyDir, 0o755)
	polFile, keyFile := filepath.Join(polDir, "policy.yaml"), filepath.Join(keyDir, "cosign.pub")
	replaceFile(t, polFile, []byte(keyPolicy))

	st := newPolicyStore(polFile)
	if _, err := st.reload(); err == nil || !strings.Contains(err.Error(), keyFile+" does not exist") {
		t.Fatalf("first load without the key: %v, want the missing key named", err)
	}
	if changed, _ := st.reload(); changed {
		t.Error("the same missing key was tried again")
	}
	if got := st.watched(); !strings.Contains(strings.Join(got, " "), keyFile) {
		t.Errorf("watched %v, want the key file among them", got)
	}

	k1 := cosigntest.PublicKeyPEM(t)
	replaceFile(t, keyFile, k1)
	if changed, err := st.reload(); !changed || err != nil {
		t.Fatalf("after the key appeared: changed %v, %v", changed, err)
	}
	if got := policyKey(t, st.get()); !bytes.Equal(got, k1) {
		t.Errorf("key in force:\n%s\nwant\n%s", got, k1)
	}
	if changed, _ := st.reload(); changed {
		t.Error("reloaded with nothing changed")
	}

	k2 := cosigntest.PublicKeyPEM(t)
	replaceFile(t, keyFile, k2)
	if changed, err := st.reload(); !changed || err != nil {
		t.Fatalf("after rotating the key: changed %v, %v", changed, err)
	}
	if got := policyKey(t, st.get()); !bytes.Equal(got, k2) {
		t.Errorf("key in force after rotation:\n%s\nwant\n%s", got, k2)
	}

	replaceFile(t, keyFile, []byte("not a key\n"))
	if _, err := st.reload(); err == nil {
		t.Fatal("a broken key file loaded")
	}
	if got := policyKey(t, st.get()); !bytes.Equal(got, k2) {
		t.Error("a broken key file replaced the key in force")
	}
}

// TestServeReloadsKeyFiles: a key file in another directory than the
// policy is watched by file notifications (the fallback poll is an hour).
func TestServeReloadsKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := certs.Generate(certs.Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	polDir, keyDir := filepath.Join(dir, "policy"), filepath.Join(dir, "keys")
	os.Mkdir(polDir, 0o755)
	os.Mkdir(keyDir, 0o755)
	polFile, keyFile := filepath.Join(polDir, "policy.yaml"), filepath.Join(keyDir, "cosign.pub")
	replaceFile(t, polFile, []byte(keyPolicy))
	replaceFile(t, keyFile, cosigntest.PublicKeyPEM(t))
	s := startServerIn(t, dir, Options{PolicyFile: polFile, ReloadInterval: time.Hour})

	replaceFile(t, keyFile, cosigntest.PublicKeyPEM(t))
	waitFor(t, "the reload after the key rotation", func() bool {
		return strings.Contains(s.metrics(t), `tollgate_policy_reloads_total{result="success"} 1`)
	})
	replaceFile(t, keyFile, []byte("not a key\n"))
	waitFor(t, "the failed reload of a broken key", func() bool {
		return strings.Contains(s.metrics(t), `tollgate_policy_reloads_total{result="error"} 1`)
	})
}
