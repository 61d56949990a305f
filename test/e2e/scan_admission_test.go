package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scanPolicyTemplate is the policy of TestAdmissionScanning: vulnerability
// rules for the images of the test registry and of the slow proxy (onError
// and the ignore list vary), a cosign key required for REG/trusted/**, and
// tags of the test registry pinned to their digests by /mutate.
const scanPolicyTemplate = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata:
  name: e2e-scan
spec:
  mutations:
    pinDigests: {enabled: true, timeoutSeconds: 3, registries: ["{{REG}}"]}
  vulnerabilities:
    mode: enforce
    onError: {{ONERROR}}
    maxSeverity: HIGH
    images: ["{{REG}}/**", "{{SLOW}}/**"]
{{IGNORE}}  signatures:
    rules:
    - name: ci-key
      images: ["{{REG}}/trusted/**"]
      keys: [{name: ci, publicKeyFile: "{{KEY}}"}]
`

// scanSetup is what the scenarios share: the registry and its slow proxy,
// the fixture images' digests, the advisory DB and the cosign public key.
type scanSetup struct {
	c           *cluster
	reg, slow   string
	proxy       *slowProxy
	cache, key  string
	digests     map[string]string // image reference → digest
	policyCount int
}

// restart configures tollgate serve with a policy from
// scanPolicyTemplate and the given scan budget; when it runs, it is
// stopped and started again on the same port, its in-process scan cache
// empty.
func (s *scanSetup) restart(t *testing.T, onError, ignore string, budget time.Duration) {
	t.Helper()
	s.c.policy = s.writePolicy(t, onError, ignore)
	s.c.serveArgs = []string{"--cache-dir=" + s.cache, "--scan-budget=" + budget.String()}
	if s.c.server == nil {
		return // startAll starts it
	}
	if graceful, err := s.c.server.stop(t, 30*time.Second); !graceful || err != nil {
		t.Fatalf("tollgate did not stop cleanly: graceful=%v err=%v\n%s", graceful, err, s.c.server.tail(10))
	}
	s.c.startTollgate()
	if !s.c.server.running() {
		t.Fatalf("tollgate exited after its start:\n%s", s.c.server.tail(10))
	}
}

// writePolicy writes a new policy file from scanPolicyTemplate and
// returns its path.
func (s *scanSetup) writePolicy(t *testing.T, onError, ignore string) string {
	t.Helper()
	s.policyCount++
	doc := strings.NewReplacer("{{REG}}", s.reg, "{{SLOW}}", s.slow, "{{ONERROR}}", onError, "{{IGNORE}}", ignore, "{{KEY}}", s.key).Replace(scanPolicyTemplate)
	p := filepath.Join(s.c.work, fmt.Sprintf("scan-policy-%d.yaml", s.policyCount))
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ignoreEntry is the policy's ignore list with one entry for vulnCVE.
func ignoreEntry(expires string) string {
	return "    ignore:\n    - {id: " + vulnCVE + ", reason: \"e2e: not reachable in this test\", expires: " + expires + "}\n"
}

// push builds and pushes a fixture image and remembers its digest.
func (s *scanSetup) push(t *testing.T, ref, sslVersion string) string {
	t.Helper()
	d := pushTo(t, ref, debianImage(t, sslVersion, ref))
	s.digests[ref] = d
	return d
}

// wantDenied checks a refusal's message: it has each of want.
func wantDenied(t *testing.T, what, errOut string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s was admitted, want a refusal with %q", what, want)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("%s: refusal %q does not say %q", what, strings.TrimSpace(errOut), w)
		}
	}
	t.Logf("%s refused: %s", what, strings.TrimSpace(errOut))
}

// vulnReason is what a denial for the fixture's critical finding must
// name: the CVE, its severity, the fixed version and the image's digest.
func vulnReason(digest string) []string {
	return []string{vulnCVE + " CRITICAL", "fixed in " + fixedSSL, digest[:len("sha256:")+12]}
}

// firstSight is what the message of a scan still running at decision time
// says (contract: "… not finished within 2s …").
const firstSight = "not finished within 2s"

// scansFinished reads tollgate_scans_total{result="finished"} from
// tollgate's /metrics (0 when absent).
func scansFinished(t *testing.T, c *cluster) int {
	t.Helper()
	re := regexp.MustCompile(`(?m)^tollgate_scans_total\{[^}]*result="finished"[^}]*\} ([0-9.e+]+)$`)
	m := re.FindStringSubmatch(tollgateMetrics(t, c))
	if m == nil {
		return 0
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("tollgate_scans_total: %v", err)
	}
	return int(f)
}

// waitScansFinished waits until tollgate has finished n scans.
func waitScansFinished(t *testing.T, c *cluster, n int) {
	t.Helper()
	start := time.Now()
	ok, _ := eventually(60*time.Second, 250*time.Millisecond, func() (bool, string) {
		return scansFinished(t, c) >= n, ""
	})
	if !ok {
		t.Fatalf("tollgate finished %d scans in 60s, want %d:\n%s", scansFinished(t, c), n, grepLines(tollgateMetrics(t, c), "tollgate_scan"))
	}
	t.Logf("%d scans finished after %.1fs", n, time.Since(start).Seconds())
}

// podImage waits for the pod of a Deployment and returns its first
// container's image.
func podImage(t *testing.T, c *cluster, app string) string {
	t.Helper()
	var image string
	ok, detail := eventually(60*time.Second, 500*time.Millisecond, func() (bool, string) {
		out, errOut, _ := c.kubectl("get", "pods", "-l", "app="+app, "-o", "jsonpath={.items[0].spec.containers[0].image}")
		image = strings.TrimSpace(out)
		return image != "", errOut
	})
	if !ok {
		t.Fatalf("%s has no pod: %s\nReplicaSet events:\n%s", app, detail, replicaSetEvents(c, app))
	}
	return image
}

// replicaSetEvents lists the FailedCreate events of app's ReplicaSets.
func replicaSetEvents(c *cluster, app string) string {
	out, _, _ := c.kubectl("get", "events", "--field-selector", "reason=FailedCreate,involvedObject.kind=ReplicaSet",
		"-o", "jsonpath={range .items[*]}{.involvedObject.name}: {.message}{\"\\n\"}{end}")
	return grepLines(out, app+"-")
}

// TestAdmissionScanning runs the admission scanning of issue #11 and the
// signature rules of issue #15 on the real control plane, with images
// pushed to Debian's docker-registry on loopback and the project's fixture
// advisories imported with tollgate db import: a critical vulnerability
// refused by /image_policy (pod creation) and /validate (kubectl create
// deployment), a clean image admitted, an expired ignore entry denying
// again; the first sight of an image behind a deliberately slow registry
// with onError deny and allow, the retry decided from the cache; an image
// signed by the real cosign admitted and pinned to its digest, an unsigned
// one refused by every path.
func TestAdmissionScanning(t *testing.T) {
	c := newCluster(t)
	cos2, cos3 := findCosign(t, 2), findCosign(t, 3)
	reg := startDockerRegistry(t)
	// Longer than the 2 s scan budget of the first-sight scenarios, well
	// within the 60 s the test waits for the background scans.
	proxy := startSlowProxy(t, reg, 8*time.Second)
	s := &scanSetup{c: c, reg: reg, slow: proxy.Host, proxy: proxy, cache: importFixtureDB(t, c.tollgate), digests: map[string]string{}}

	vuln, clean := reg+"/shop/vuln:1", reg+"/shop/clean:1"
	s.push(t, vuln, vulnSSL)
	s.push(t, clean, fixedSSL)
	// Signed images: the same clean base, one signed by each cosign
	// (cosign 2: the legacy .sig tag; cosign 3: a bundle through the
	// referrers tag fallback, Debian's registry having no referrers API),
	// with one key pair.
	priv, pub := cos2.generateKeyPair(t, t.TempDir())
	s.key = pub
	signed2, signed3, unsigned := reg+"/trusted/app:signed2", reg+"/trusted/app:signed3", reg+"/trusted/app:unsigned"
	cos2.sign(t, priv, reg+"/trusted/app@"+s.push(t, signed2, fixedSSL))
	cos3.sign(t, priv, reg+"/trusted/app@"+s.push(t, signed3, fixedSSL))
	s.push(t, unsigned, fixedSSL)
	// Behind the slow proxy: images of their own (digests no earlier
	// scenario scanned), pushed to the registry directly.
	for _, name := range []string{"vuln-deny", "vuln-allow"} {
		s.push(t, reg+"/slow/"+name+":1", vulnSSL)
	}
	s.push(t, reg+"/slow/clean-deny:1", fixedSSL)
	slowRef := func(name string) (string, string) {
		return proxy.Host + "/slow/" + name + ":1", s.digests[reg+"/slow/"+name+":1"]
	}

	c.writeTollgateFiles()
	s.restart(t, "deny", "", 4*time.Second)
	c.startAll()
	step := func(name string, f func(t *testing.T)) { runStep(t, name, f) }

	// ImagePolicyWebhook alone (no webhook configuration yet): what it
	// decides is what /image_policy decides.
	step("image_policy: vulnerable pod refused with the CVE", func(t *testing.T) {
		_, errOut, err := c.kubectl("run", "vuln-pod", "--image="+vuln)
		wantDenied(t, "pod "+vuln, errOut, err, append([]string{`pods "vuln-pod" is forbidden: image policy webhook backend denied one or more images: tollgate:`}, vulnReason(s.digests[vuln])...)...)
	})
	step("image_policy: clean pod admitted", func(t *testing.T) {
		mustKubectl(t, c, "run", "clean-pod", "--image="+clean)
	})
	step("image_policy: unsigned pod refused", func(t *testing.T) {
		_, errOut, err := c.kubectl("run", "unsigned-pod", "--image="+unsigned)
		wantDenied(t, "pod "+unsigned, errOut, err, `image policy webhook backend denied one or more images: tollgate:`, "no signatures found")
	})
	step("image_policy: signed pods admitted", func(t *testing.T) {
		mustKubectl(t, c, "run", "signed2-pod", "--image="+signed2)
		mustKubectl(t, c, "run", "signed3-pod", "--image="+signed3)
	})

	step("webhook configurations installed", c.installWebhooks)

	step("validate: vulnerable Deployment refused with the CVE", func(t *testing.T) {
		_, errOut, err := c.kubectl("create", "deployment", "vuln", "--image="+vuln)
		wantDenied(t, "deployment "+vuln, errOut, err, append([]string{`admission webhook "validate.tollgate.dev" denied the request:`}, vulnReason(s.digests[vuln])...)...)
		if out, _, _ := c.kubectl("get", "deployment", "vuln", "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("deployment vuln exists: %s", out)
		}
	})
	step("validate: clean Deployment admitted, its pod pinned", func(t *testing.T) {
		mustKubectl(t, c, "create", "deployment", "clean", "--image="+clean)
		if got, want := podImage(t, c, "clean"), clean+"@"+s.digests[clean]; got != want {
			t.Errorf("pod image %q, want %q", got, want)
		}
	})
	step("signatures: signed Deployments admitted, pods pinned to the signed digest", func(t *testing.T) {
		for app, ref := range map[string]string{"signed2": signed2, "signed3": signed3} {
			mustKubectl(t, c, "create", "deployment", app, "--image="+ref)
			if got, want := podImage(t, c, app), ref+"@"+s.digests[ref]; got != want {
				t.Errorf("%s: pod image %q, want %q (the digest cosign signed)", app, got, want)
			}
		}
	})
	step("signatures: unsigned Deployment and pod refused", func(t *testing.T) {
		_, errOut, err := c.kubectl("create", "deployment", "unsigned", "--image="+unsigned)
		wantDenied(t, "deployment "+unsigned, errOut, err, `admission webhook "validate.tollgate.dev" denied the request:`, "no signatures found")
		_, errOut, err = c.kubectl("run", "unsigned-pod2", "--image="+unsigned)
		wantDenied(t, "pod "+unsigned, errOut, err, `pods "unsigned-pod2" is forbidden`, "tollgate", "no signatures found")
	})

	step("ignore entry past its expiry denies again", func(t *testing.T) {
		s.restart(t, "deny", ignoreEntry("2020-01-31"), 4*time.Second)
		_, errOut, err := c.kubectl("create", "deployment", "vuln-expired", "--image="+vuln)
		wantDenied(t, "deployment "+vuln+" (ignore expired)", errOut, err, vulnReason(s.digests[vuln])...)
	})
	step("ignore entry before its expiry admits", func(t *testing.T) {
		s.restart(t, "deny", ignoreEntry("2099-12-31"), 4*time.Second)
		mustKubectl(t, c, "create", "deployment", "vuln-ignored", "--image="+vuln)
		if got, want := podImage(t, c, "vuln-ignored"), vuln+"@"+s.digests[vuln]; got != want {
			t.Errorf("pod image %q, want %q", got, want)
		}
	})

	step("first sight behind the slow registry, onError deny", func(t *testing.T) {
		s.restart(t, "deny", "", 2*time.Second)
		before := scansFinished(t, c)
		vulnRef, vulnDigest := slowRef("vuln-deny")
		cleanRef, _ := slowRef("clean-deny")
		for app, ref := range map[string]string{"slow-vuln": vulnRef, "slow-clean": cleanRef} {
			start := time.Now()
			_, errOut, err := c.kubectl("create", "deployment", app, "--image="+ref)
			wantDenied(t, "first sight of "+ref, errOut, err, `admission webhook "validate.tollgate.dev" denied the request:`, firstSight)
			t.Logf("first decision in %.1fs", time.Since(start).Seconds())
		}
		if proxy.Delayed() == 0 {
			t.Fatal("no layer was fetched through the slow proxy")
		}
		waitScansFinished(t, c, before+2)
		// The retries are decided from the cache: a scan could not finish
		// within the budget behind the proxy.
		start := time.Now()
		_, errOut, err := c.kubectl("create", "deployment", "slow-vuln", "--image="+vulnRef)
		wantDenied(t, "retry of "+vulnRef, errOut, err, vulnReason(vulnDigest)...)
		if strings.Contains(errOut, firstSight) {
			t.Errorf("the retry was not decided from the cache: %s", errOut)
		}
		mustKubectl(t, c, "create", "deployment", "slow-clean", "--image="+cleanRef)
		t.Logf("retries decided in %.1fs", time.Since(start).Seconds())
		if got := podImage(t, c, "slow-clean"); got != cleanRef {
			t.Errorf("pod image %q, want %q", got, cleanRef)
		}
	})

	step("first sight behind the slow registry, onError allow", func(t *testing.T) {
		s.restart(t, "allow", "", 2*time.Second)
		before := scansFinished(t, c)
		ref, digest := slowRef("vuln-allow")
		_, errOut := mustKubectlErr(t, c, "create", "deployment", "allow-vuln", "--image="+ref)
		// The apiserver shows at most 256 characters of a warning: the
		// reason after "not checked" may be cut.
		for _, w := range []string{"Warning: vulnerabilities: ", "image " + ref + " (" + digest[:len("sha256:")+12], "not checked (onError: allow)"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("admitted without the warning %q: %q", w, errOut)
			}
		}
		t.Logf("admitted with: %s", strings.TrimSpace(errOut))
		waitScansFinished(t, c, before+1)
		_, errOut, err := c.kubectl("create", "deployment", "allow-vuln-2", "--image="+ref)
		wantDenied(t, "retry of "+ref, errOut, err, vulnReason(digest)...)
	})

	// The same policy file fails CI where the cluster refused.
	step("CI commands decide as admission did", func(t *testing.T) {
		policy := s.writePolicy(t, "deny", "")
		for _, tt := range []struct {
			args []string
			code int
			want []string
		}{
			{[]string{"image", "--cache-dir", s.cache, "--skip-db-update", "--policy", policy, vuln}, 1, append([]string{"vulnerabilities: image " + vuln}, vulnReason(s.digests[vuln])...)},
			{[]string{"image", "--cache-dir", s.cache, "--skip-db-update", "--policy", policy, clean}, 0, nil},
			{[]string{"verify", "--policy", policy, unsigned}, 1, []string{"no signatures found"}},
			{[]string{"verify", "--policy", policy, signed2}, 0, nil},
			{[]string{"verify", "--policy", policy, signed3}, 0, nil},
		} {
			out, errOut, err := run(2*time.Minute, c.tollgate, tt.args...)
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("tollgate %s: %v", strings.Join(tt.args, " "), err)
			}
			if code != tt.code {
				t.Errorf("tollgate %s: exit %d, want %d\n%s%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("tollgate %s: the output does not say %q:\n%s%s", strings.Join(tt.args, " "), w, out, errOut)
				}
			}
		}
	})
}

// mustKubectlErr is mustKubectl that also returns stderr (warnings).
func mustKubectlErr(t *testing.T, c *cluster, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := c.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out, errOut
}
