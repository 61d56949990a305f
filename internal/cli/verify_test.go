package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// TestVerifyPolicy runs `tollgate verify --policy` end to end against the
// in-process registry (signed images are covered by internal/signature and
// testdata/script/verify.txtar).
func TestVerifyPolicy(t *testing.T) {
	reg := registrytest.StartRegistry(t)
	registrytest.Push(t, reg.Host+"/team/app:1", registrytest.Image(t, registrytest.Layer(t, registrytest.File("etc/app", "x"))))
	dir := t.TempDir()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(priv.Public())
	os.WriteFile(filepath.Join(dir, "ci.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	write := func(body string) string {
		p := filepath.Join(dir, "policy.yaml")
		os.WriteFile(p, []byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  signatures:\n    rules:\n"+body), 0o644)
		return p
	}
	rule := func(images, extra string) string {
		return fmt.Sprintf("    - name: team\n      images: [%s]\n      keys: [{publicKeyFile: ci.pub}]\n%s", images, extra)
	}
	tests := []struct {
		name, policy, image string
		args                []string
		code                int
		stdout, stderr      string
	}{
		{"unsigned", rule(reg.Host+"/team/*", ""), reg.Host + "/team/app:1", nil, 1, "enforce: image " + reg.Host + "/team/app:1 (sha256:", "denied by the policy's signature rules"},
		{"unsigned, warn", rule(reg.Host+"/team/*", "      mode: warn\n"), reg.Host + "/team/app:1", nil, 0, "warn: image", ""},
		{"exempt namespace", rule(reg.Host+"/team/*", "      exemptNamespaces: [dev]\n"), reg.Host + "/team/app:1", []string{"--namespace", "dev"}, 0, "no signature rule of the policy applies", ""},
		{"json", rule(reg.Host+"/team/*", ""), reg.Host + "/team/app:1", []string{"-f", "json"}, 1, `"mode": "enforce"`, ""},
		{"registry down, onError allow", rule("127.0.0.1:1/team/*", "      onError: allow\n"), "127.0.0.1:1/team/app:1", nil, 0, "not checked (onError: allow)", ""},
		{"registry down, onError deny", rule("127.0.0.1:1/team/*", ""), "127.0.0.1:1/team/app:1", nil, 1, "cannot be checked", ""},
		{"bad policy", rule(reg.Host+"/team/*", "      mode: loud\n"), reg.Host + "/team/app:1", nil, 2, "", `mode: "loud"`},
		{"policy with --key", rule(reg.Host+"/team/*", ""), reg.Host + "/team/app:1", []string{"--key", "ci.pub"}, 2, "", "drop --key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"verify", "--policy", write(tt.policy)}, tt.args...)
			stdout, stderr, code := runTollgate(t, append(args, tt.image)...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
		})
	}
}
