package signature

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

func TestVerifyPolicy(t *testing.T) {
	reg := registrytest.StartRegistry(t)
	k := newTestKey(t, "ecdsa-p256")
	repo := reg.Host + "/team/app"
	signed := pushImage(t, repo+":signed", "signed")
	pushAttached(t, repo, signed, "sig", legacySig(t, k, repo, signed, map[string]any{"ref": "main"}))
	pushImage(t, repo+":unsigned", "unsigned")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ci.pub"), pemPublic(t, k.priv.Public()), 0o644)
	pol := func(extra string) *policy.SignaturePolicy {
		t.Helper()
		doc := fmt.Sprintf(`apiVersion: tollgate.dev/v1alpha1
kind: Policy
spec:
  signatures:
    rules:
    - name: team
      images: [%s/team/*]
      keys: [{publicKeyFile: ci.pub}]
      exemptNamespaces: [sandbox]
%s`, reg.Host, extra)
		path := filepath.Join(dir, "policy.yaml")
		os.WriteFile(path, []byte(doc), 0o644)
		sp, err := policy.LoadSignatures(path)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	tests := []struct {
		name, extra, image, ns string
		denied                 bool
		finding                string // substring of the one finding, "" for none
	}{
		{name: "signed", image: repo + ":signed"},
		{name: "unsigned", image: repo + ":unsigned", denied: true, finding: "signature: no signatures found"},
		{name: "unsigned, exempt namespace", image: repo + ":unsigned", ns: "sandbox"},
		{name: "unsigned, warn", extra: "      mode: warn\n", image: repo + ":unsigned", finding: "no signatures found"},
		{name: "annotation", extra: "      annotations: {ref: main}\n", image: repo + ":signed"},
		{name: "annotation wrong", extra: "      annotations: {ref: dev}\n", image: repo + ":signed", denied: true, finding: `annotation ref is "main", "dev" required`},
		{name: "attestation missing", extra: "      attestations: [cyclonedx]\n", image: repo + ":signed", denied: true, finding: "attestation https://cyclonedx.org/bom: no attestations found"},
		{name: "another registry", image: "other.example.com/team/app:1"},
		{name: "registry down, deny", image: "127.0.0.1:1/team/app:1", extra: "    - images: [127.0.0.1:1/team/*]\n      keys: [{publicKeyFile: ci.pub}]\n", denied: true, finding: "cannot be checked"},
		{name: "registry down, allow", image: "127.0.0.1:1/team/app:1", extra: "    - images: [127.0.0.1:1/team/*]\n      keys: [{publicKeyFile: ci.pub}]\n      onError: allow\n", finding: "not checked (onError: allow)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, err := VerifyPolicy(context.Background(), pol(tt.extra), tt.image, tt.ns, RegistryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if pr.Denied() != tt.denied {
				t.Errorf("denied = %v, want %v: %+v", pr.Denied(), tt.denied, pr.Findings)
			}
			switch {
			case tt.finding == "" && len(pr.Findings) > 0:
				t.Errorf("findings %+v, want none", pr.Findings)
			case tt.finding != "" && (len(pr.Findings) != 1 || !strings.Contains(pr.Findings[0].Message, tt.finding)):
				t.Errorf("findings %+v, want one with %q", pr.Findings, tt.finding)
			}
		})
	}
}
