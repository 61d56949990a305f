package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/webhook"
)

// TestCIDecidesAsAdmission runs the same images and policies through
// `tollgate image --policy`, `kube scan --policy --check-images` and the
// admission server's /validate: all three must reach the same decision
// with the same message.
func TestCIDecidesAsAdmission(t *testing.T) {
	reg := registrytest.StartRegistry(t)
	vuln := reg.Host + "/shop:1"
	clean := reg.Host + "/static:1"
	registrytest.Push(t, vuln, registrytest.DebianImage(t))
	registrytest.Push(t, clean, registrytest.Image(t, registrytest.Layer(t, registrytest.File("app/hello", "hello\n"))))
	cache := t.TempDir()
	if _, stderr, code := runTollgate(t, "db", "import", "--cache-dir", cache, "../../examples/vulndb"); code != 0 {
		t.Fatalf("db import: %d %s", code, stderr)
	}
	dbDir, err := advisory.DefaultDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	opts := image.Options{Transport: reg.Transport}
	scanner := &gate.ImageScanner{DBDir: dbDir, Inventory: inventory.Options{CacheDir: cache, Image: opts}}
	defer scanner.Close()

	const head = "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: same}\nspec:\n  images: {denyLatest: {mode: off}, requireTag: {mode: off}}\n"
	cases := []struct {
		name, spec, image string
		denied            bool
	}{
		{"critical denies", "  vulnerabilities: {}\n", vuln, true},
		{"maxSeverity CRITICAL admits", "  vulnerabilities: {maxSeverity: CRITICAL}\n", vuln, false},
		{"ignored until next year admits", "  vulnerabilities:\n    ignore:\n    - {id: CVE-2023-50002, reason: r, expires: 2099-01-01}\n    - {id: GHSA-tg00-0000-0003, reason: r}\n", vuln, false},
		{"expired ignore denies", "  vulnerabilities:\n    ignore:\n    - {id: CVE-2023-50002, reason: r, expires: 2020-01-01}\n    - {id: GHSA-tg00-0000-0003, reason: r}\n", vuln, true},
		{"maxSeverity MEDIUM counts the HIGH ones", "  vulnerabilities:\n    maxSeverity: MEDIUM\n    ignoreUnfixed: true\n", vuln, true},
		{"warn admits", "  vulnerabilities: {mode: warn}\n", vuln, false},
		{"clean image admitted", "  vulnerabilities: {maxSeverity: NONE}\n", clean, false},
		{"image checks", "  imageChecks: {maxSeverity: LOW}\n", clean, true},
	}
	denial := regexp.MustCompile(`(?m)denied: (?:vulnerabilities|imageChecks): (.*)$`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "policy.yaml")
			if err := os.WriteFile(file, []byte(head+c.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			// CI: tollgate image --policy.
			_, stderr, code := runTollgate(t, "image", "--policy", file, "--cache-dir", cache, "--skip-db-update", "-q", "-f", "json", c.image)
			if code != map[bool]int{true: 1, false: 0}[c.denied] {
				t.Fatalf("tollgate image --policy: exit %d, want denied=%t\n%s", code, c.denied, stderr)
			}
			var ciMsgs []string
			for _, m := range denial.FindAllStringSubmatch(stderr, -1) {
				ciMsgs = append(ciMsgs, m[1])
			}

			// CI: kube scan --policy --check-images over a Deployment.
			manifest := filepath.Join(t.TempDir(), "deploy.yaml")
			deployment := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"` + c.image + `"}]}}}}`
			if err := os.WriteFile(manifest, []byte(deployment), 0o644); err != nil {
				t.Fatal(err)
			}
			_, kstderr, kcode := runTollgate(t, "kube", "scan", "--policy", file, "--check-images", "--cache-dir", cache, "--min-score", "-100", manifest)
			if (kcode != 0) != c.denied {
				t.Fatalf("kube scan --check-images: exit %d, want denied=%t\n%s", kcode, c.denied, kstderr)
			}

			// Admission: /validate with the gate tollgate serve builds.
			pol, err := policy.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			g := gate.New(gate.Options{
				Resolver: &webhook.RegistryResolver{Registry: opts}, Scanner: scanner, Budget: time.Minute,
			})
			h := webhook.NewHandler(webhook.HandlerOptions{Policy: func() *policy.Policy { return pol }, Gate: g})
			body := `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"Deployment"},` +
				`"resource":{"group":"apps","version":"v1","resource":"deployments"},"namespace":"default","operation":"CREATE","object":` + deployment + `}}`
			req := httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var rev struct {
				Response struct {
					Allowed bool `json:"allowed"`
					Status  struct {
						Message string `json:"message"`
					} `json:"status"`
				} `json:"response"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &rev); err != nil {
				t.Fatal(err)
			}
			if rev.Response.Allowed == c.denied {
				t.Fatalf("admission allowed=%t, want denied=%t: %s", rev.Response.Allowed, c.denied, rec.Body.String())
			}
			if !c.denied {
				if len(ciMsgs) > 0 {
					t.Errorf("CI denied %q where admission admits", ciMsgs)
				}
				return
			}
			msg := strings.TrimPrefix(rev.Response.Status.Message, `tollgate: container "app" (spec.template.spec.containers[0].image): `)
			if len(ciMsgs) != 1 || ciMsgs[0] != msg {
				t.Errorf("messages differ:\n   CI %q\nadmit %q", ciMsgs, msg)
			}
			if !strings.Contains(kstderr, msg) {
				t.Errorf("kube scan --check-images does not say %q:\n%s", msg, kstderr)
			}
		})
	}
}
