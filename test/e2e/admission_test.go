package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// cluster is a control plane on 127.0.0.1 plus tollgate serve.
type cluster struct {
	t        *testing.T
	bin      string // control plane binaries
	tollgate string
	work     string
	logs     string
	pki      *controlPlanePKI
	tgDir    string // tollgate certs + apiserver-config output

	etcdPort, apiPort, tgPort int
	admin                     string // admin kubeconfig

	saPub, saKey                 string
	apiCert, apiKey              string
	etcd, apiserver, kcm, server *proc
	policy                       string
	serveArgs                    []string // more tollgate serve flags
}

// newCluster prepares a control plane on free loopback ports: its PKI,
// the apiserver's serving pair and service-account keys, an admin
// kubeconfig. Nothing runs yet.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, bin: controlPlaneDir(t), tollgate: tollgateBinary(t), work: t.TempDir()}
	c.logs = filepath.Join(c.work, "logs")
	os.MkdirAll(c.logs, 0o755)
	t.Logf("work directory %s", c.work)
	c.etcdPort, c.apiPort, c.tgPort = freePort(t), freePort(t), freePort(t)
	c.pki = newControlPlanePKI(t, filepath.Join(c.work, "pki"))
	c.apiCert, c.apiKey = c.pki.leaf(t, "apiserver", "kube-apiserver", nil, x509.ExtKeyUsageServerAuth,
		"127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "10.0.0.1")
	adminCert, adminKey := c.pki.leaf(t, "admin", "e2e-admin", []string{"system:masters"}, x509.ExtKeyUsageClientAuth)
	c.saPub, c.saKey = c.pki.serviceAccountKeys(t)
	c.admin = kubeconfig(t, filepath.Join(c.work, "admin.kubeconfig"), fmt.Sprintf("https://127.0.0.1:%d", c.apiPort), c.pki.CAFile, adminCert, adminKey)
	return c
}

// e2ePolicy turns on what the scenarios check: the seed's image rules
// (built in), kubesec critical findings, mutations and digest pinning from
// the test registry (%s; there is no Docker Hub here).
const e2ePolicy = `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata:
  name: e2e
spec:
  workloads:
    kubesecCritical: {mode: enforce}
  mutations:
    labels:
      tollgate.dev/admitted: "true"
    securityContext:
      seccompRuntimeDefault: true
      allowPrivilegeEscalationFalse: true
    pinDigests: {enabled: true, timeoutSeconds: 3, registries: ["%s"]}
`

func (c *cluster) kubectl(args ...string) (string, string, error) {
	return run(60*time.Second, filepath.Join(c.bin, "kubectl"), append([]string{"--kubeconfig", c.admin, "--request-timeout=30s"}, args...)...)
}

func (c *cluster) tg(args ...string) string {
	c.t.Helper()
	out, errOut, err := run(60*time.Second, c.tollgate, args...)
	if err != nil {
		c.t.Fatalf("tollgate %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (c *cluster) startEtcd() {
	t := c.t
	data := filepath.Join(c.work, "etcd-data")
	client := fmt.Sprintf("http://127.0.0.1:%d", c.etcdPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	c.etcd = startProc(t, c.logs, "etcd", filepath.Join(c.bin, "etcd"),
		"--name", "e2e", "--data-dir", data,
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "e2e="+peer, "--unsafe-no-fsync=true", "--log-level", "warn")
	c.waitHTTP("etcd", client+"/health", nil, 30*time.Second)
}

func (c *cluster) startAPIServer(admissionConfig string) {
	t := c.t
	c.apiserver = startProc(t, c.logs, "kube-apiserver", filepath.Join(c.bin, "kube-apiserver"),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// Without it 1.37 refuses a loopback advertise address.
		"--endpoint-reconciler-type=none",
		fmt.Sprintf("--secure-port=%d", c.apiPort),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", c.etcdPort),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--tls-cert-file="+c.apiCert, "--tls-private-key-file="+c.apiKey,
		"--client-ca-file="+c.pki.CAFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.saPub, "--service-account-signing-key-file="+c.saKey,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--enable-admission-plugins=NodeRestriction,ImagePolicyWebhook",
		"--admission-control-config-file="+admissionConfig,
		// Audit pod requests, to see the annotations admission adds.
		"--audit-policy-file="+c.auditPolicy(), "--audit-log-path="+c.auditLog(),
		"--profiling=false", "--v=1")
	cert, key := filepath.Join(c.pki.dir, "admin.crt"), filepath.Join(c.pki.dir, "admin.key")
	c.waitHTTP("kube-apiserver", fmt.Sprintf("https://127.0.0.1:%d/readyz", c.apiPort), &tlsFiles{ca: c.pki.CAFile, cert: cert, key: key}, 90*time.Second)
}

func (c *cluster) startControllerManager() {
	t := c.t
	cert, key := c.pki.leaf(t, "kcm", "system:kube-controller-manager", nil, x509.ExtKeyUsageClientAuth)
	kc := kubeconfig(t, filepath.Join(c.work, "kcm.kubeconfig"), fmt.Sprintf("https://127.0.0.1:%d", c.apiPort), c.pki.CAFile, cert, key)
	c.kcm = startProc(t, c.logs, "kube-controller-manager", filepath.Join(c.bin, "kube-controller-manager"),
		"--kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", freePort(t)),
		"--leader-elect=false", "--use-service-account-credentials=true",
		"--service-account-private-key-file="+c.saKey, "--root-ca-file="+c.pki.CAFile,
		"--controllers=serviceaccount-token-controller,serviceaccount-controller,deployment-controller,replicaset-controller", "--v=1")
	// Ready for us: the default ServiceAccount exists (pods need it).
	ok, detail := eventually(60*time.Second, 250*time.Millisecond, func() (bool, string) {
		out, errOut, err := c.kubectl("get", "serviceaccount", "default", "-o", "name")
		return err == nil && strings.TrimSpace(out) == "serviceaccount/default", errOut
	})
	if !ok {
		t.Fatalf("default ServiceAccount never appeared: %s\n%s", detail, c.kcm.tail(20))
	}
}

func (c *cluster) startTollgate() {
	t := c.t
	args := append([]string{"serve",
		fmt.Sprintf("--addr=127.0.0.1:%d", c.tgPort),
		"--tls-cert=" + filepath.Join(c.tgDir, "webhook.pem"), "--tls-key=" + filepath.Join(c.tgDir, "webhook-key.pem"),
		"--client-ca=" + filepath.Join(c.tgDir, "ca.pem"),
		"--policy=" + c.policy, "--log-level=debug"}, c.serveArgs...)
	c.server = startProc(t, c.logs, "tollgate", c.tollgate, args...)
	c.waitHTTP("tollgate", fmt.Sprintf("https://127.0.0.1:%d/readyz", c.tgPort), &tlsFiles{ca: filepath.Join(c.tgDir, "ca.pem")}, 30*time.Second)
}

func (c *cluster) auditLog() string { return filepath.Join(c.work, "audit.log") }

func (c *cluster) auditPolicy() string {
	p := filepath.Join(c.work, "audit-policy.yaml")
	doc := "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n" +
		"- level: Metadata\n  resources: [{group: \"\", resources: [pods]}]\n- level: None\n"
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// auditAnnotations waits for the audit event of a pod's creation and
// returns its annotations.
func (c *cluster) auditAnnotations(t *testing.T, pod string) map[string]string {
	t.Helper()
	var found map[string]string
	ok, _ := eventually(15*time.Second, 200*time.Millisecond, func() (bool, string) {
		b, err := os.ReadFile(c.auditLog())
		if err != nil {
			return false, err.Error()
		}
		for _, line := range strings.Split(string(b), "\n") {
			var ev struct {
				Verb      string `json:"verb"`
				ObjectRef struct {
					Resource, Name string
				} `json:"objectRef"`
				Annotations map[string]string `json:"annotations"`
			}
			if json.Unmarshal([]byte(line), &ev) != nil {
				continue
			}
			if ev.Verb == "create" && ev.ObjectRef.Resource == "pods" && ev.ObjectRef.Name == pod {
				found = ev.Annotations
				return true, ""
			}
		}
		return false, ""
	})
	if !ok {
		t.Fatalf("no audit event for the creation of pod %s", pod)
	}
	return found
}

type tlsFiles struct{ ca, cert, key string }

func (f *tlsFiles) client(t *testing.T) *http.Client {
	t.Helper()
	cfg := &tls.Config{}
	if f != nil {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AppendCertsFromPEM(pem)
		if f.cert != "" {
			pair, err := tls.LoadX509KeyPair(f.cert, f.key)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

func (c *cluster) waitHTTP(what, url string, f *tlsFiles, timeout time.Duration) {
	t := c.t
	t.Helper()
	start := time.Now()
	cl := f.client(t)
	ok, detail := eventually(timeout, 200*time.Millisecond, func() (bool, string) {
		resp, err := cl.Get(url)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200, fmt.Sprintf("%d %s", resp.StatusCode, b)
	})
	if !ok {
		t.Fatalf("%s not ready after %v: %s", what, timeout, detail)
	}
	t.Logf("%s ready after %.2fs", what, time.Since(start).Seconds())
}

// stopAll stops what is running in dependency order: tollgate, the
// controller manager, the apiserver (before etcd: with etcd gone it hangs in
// shutdown), etcd.
func (c *cluster) stopAll() {
	for _, p := range []*proc{c.server, c.kcm, c.apiserver, c.etcd} {
		if p != nil && p.running() {
			p.stop(c.t, 15*time.Second)
		}
	}
}

func (c *cluster) dumpLogs() {
	for _, p := range []*proc{c.etcd, c.apiserver, c.kcm, c.server} {
		if p != nil {
			c.t.Logf("--- last lines of %s ---\n%s", p.name, p.tail(30))
		}
	}
}

// writeTollgateFiles writes tollgate's files exactly as an administrator
// would make them (tollgate certs, tollgate apiserver-config with
// defaultAllow) into c.tgDir and returns tollgate's URL. TTLs of 1 s keep
// the apiserver's ImageReview cache out of the way.
func (c *cluster) writeTollgateFiles() string {
	c.tgDir = filepath.Join(c.work, "tollgate")
	url := fmt.Sprintf("https://127.0.0.1:%d", c.tgPort)
	c.tg("certs", "--dir", c.tgDir, "--hosts", "127.0.0.1,localhost")
	c.tg("apiserver-config", "--dir", c.tgDir, "--url", url, "--allow-ttl", "1", "--deny-ttl", "1", "--default-allow")
	return url
}

// startAll starts etcd, the apiserver (with the ImagePolicyWebhook
// configuration writeTollgateFiles wrote), the controller manager and
// tollgate serve; they are stopped (and their logs shown on failure) when
// the test ends.
func (c *cluster) startAll() {
	c.t.Cleanup(func() {
		if c.t.Failed() {
			c.dumpLogs()
		}
		c.stopAll()
	})
	c.startEtcd()
	c.startAPIServer(filepath.Join(c.tgDir, "admission_configuration.yaml"))
	c.startControllerManager()
	c.startTollgate()
}

// runStep runs one scenario of a cluster test as a subtest and logs how
// long it took.
func runStep(t *testing.T, name string, f func(t *testing.T)) {
	start := time.Now()
	t.Run(name, f)
	t.Logf("step %s: %.1fs", name, time.Since(start).Seconds())
}

// installWebhooks applies the webhook configurations tollgate
// apiserver-config wrote and waits until the validating webhook answers
// (the apiserver picks configurations up asynchronously; server-side dry
// runs probe it).
func (c *cluster) installWebhooks(t *testing.T) {
	t.Helper()
	mustKubectl(t, c, "apply", "-f", filepath.Join(c.tgDir, "webhooks.yaml"))
	ok, detail := eventually(30*time.Second, 300*time.Millisecond, func() (bool, string) {
		_, errOut, err := c.kubectl("create", "deployment", "probe", "--image=nginx", "--dry-run=server")
		return err != nil && strings.Contains(errOut, `admission webhook "validate.tollgate.dev" denied the request`), errOut
	})
	if !ok {
		t.Fatalf("validating webhook never answered: %s", detail)
	}
}

// TestAdmissionControlPlane runs the seed's ImagePolicyWebhook flow and
// tollgate's validating and mutating webhooks against a real
// kube-apiserver, kube-controller-manager and etcd, with the files tollgate
// certs and tollgate apiserver-config wrote.
func TestAdmissionControlPlane(t *testing.T) {
	c := newCluster(t)
	bin := c.bin
	for _, b := range []struct{ bin, want string }{
		{"kube-apiserver", "Kubernetes v1.37.2"},
		{"kubectl", "v1.37.2"},
		{"etcd", "etcd Version: 3.7.3"},
	} {
		args := []string{"--version"}
		if b.bin == "kubectl" {
			args = []string{"version", "--client"}
		}
		out, _, err := run(30*time.Second, filepath.Join(bin, b.bin), args...)
		if err != nil || !strings.Contains(out, b.want) {
			t.Fatalf("%s version: %v %q, want %q", b.bin, err, out, b.want)
		}
	}

	url := c.writeTollgateFiles()
	// A registry for digest pinning: go-containerregistry's, in process.
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	regHost := strings.TrimPrefix(reg.URL, "http://")
	pinned := pushImage(t, regHost+"/team/app:1.0")

	c.policy = filepath.Join(c.work, "policy.yaml")
	if err := os.WriteFile(c.policy, []byte(fmt.Sprintf(e2ePolicy, regHost)), 0o644); err != nil {
		t.Fatal(err)
	}

	c.startAll()
	step := func(name string, f func(t *testing.T)) { runStep(t, name, f) }

	step("web1 nginx:1.16 gets its pod", func(t *testing.T) {
		createDeploymentWithPod(t, c, "web1", "nginx:1.16")
	})

	step("web2 nginx pods denied in ReplicaSet events", func(t *testing.T) {
		mustKubectl(t, c, "create", "deployment", "web2", "--image=nginx")
		want := `image policy webhook backend denied one or more images: tollgate: image "nginx" has no tag`
		ok, detail := eventually(60*time.Second, 500*time.Millisecond, func() (bool, string) {
			out, _, _ := c.kubectl("get", "events", "--field-selector", "reason=FailedCreate,involvedObject.kind=ReplicaSet",
				"-o", "jsonpath={range .items[*]}{.involvedObject.name}: {.message}{\"\\n\"}{end}")
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "web2-") && strings.Contains(l, want) {
					return true, l
				}
			}
			return false, out
		})
		if !ok {
			t.Fatalf("no FailedCreate event with %q; events:\n%s", want, detail)
		}
		t.Logf("event: %s", detail)
		if out, _, _ := c.kubectl("get", "pods", "-l", "app=web2", "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("web2 has pods: %s", out)
		}
	})

	step("kubectl run nginx:latest refused with the reason", func(t *testing.T) {
		_, errOut, err := c.kubectl("run", "x", "--image=nginx:latest")
		want := `pods "x" is forbidden: image policy webhook backend denied one or more images: tollgate: image "nginx:latest" uses tag latest`
		if err == nil || !strings.Contains(errOut, want) {
			t.Fatalf("kubectl run: %v %q, want refusal %q", err, errOut, want)
		}
	})

	step("break-glass admits and is audited", func(t *testing.T) {
		mustKubectl(t, c, "run", "glass", "--image=busybox:latest", "--annotations=ops.image-policy.k8s.io/break-glass=true")
		a := c.auditAnnotations(t, "glass")
		for k, want := range map[string]string{
			"imagepolicywebhook.image-policy.k8s.io/break-glass": "true",
			"imagepolicywebhook.image-policy.k8s.io/denyLatest":  `image "busybox:latest" uses tag latest`,
		} {
			if a[k] != want {
				t.Errorf("audit annotation %s = %q, want %q (all: %v)", k, a[k], want, a)
			}
		}
	})

	step("webhook configurations installed", func(t *testing.T) {
		c.installWebhooks(t)
	})

	step("web2 Deployment refused at create by the validating webhook", func(t *testing.T) {
		mustKubectl(t, c, "delete", "deployment", "web2", "--wait=true")
		_, errOut, err := c.kubectl("create", "deployment", "web2", "--image=nginx")
		want := `admission webhook "validate.tollgate.dev" denied the request: tollgate: container "nginx" (spec.template.spec.containers[0].image): image "nginx" has no tag`
		if err == nil || !strings.Contains(errOut, want) {
			t.Fatalf("create web2: %v %q, want %q", err, errOut, want)
		}
		if out, _, _ := c.kubectl("get", "deployment", "web2", "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("web2 exists: %s", out)
		}
	})

	step("a compliant Deployment passes validate and its pod is created", func(t *testing.T) {
		// /validate scores the Deployment as the apiserver sends it
		// (status, managed fields …) with kubesecCritical on.
		mustKubectl(t, c, "create", "deployment", "web3", "--image=nginx:1.16")
		ok, detail := eventually(60*time.Second, 500*time.Millisecond, func() (bool, string) {
			out, errOut, _ := c.kubectl("get", "pods", "-l", "app=web3", "-o", "jsonpath={.items[*].metadata.labels.tollgate\\.dev/admitted}")
			return out == "true", out + errOut
		})
		if !ok {
			t.Fatalf("web3 has no mutated pod: %q", detail)
		}
	})

	step("privileged pod refused by validate", func(t *testing.T) {
		_, errOut, err := c.kubectl("run", "priv", "--image=nginx:1.17", "--privileged")
		want := `admission webhook "validate.tollgate.dev" denied the request: tollgate: kubesec Privileged (spec.containers[0].securityContext.privileged)`
		if err == nil || !strings.Contains(errOut, want) {
			t.Fatalf("kubectl run --privileged: %v %q, want %q", err, errOut, want)
		}
	})

	step("mutated pod shows the patch", func(t *testing.T) {
		mustKubectl(t, c, "run", "mut", "--image=nginx:1.17")
		out := mustKubectl(t, c, "get", "pod", "mut", "-o",
			`jsonpath={.metadata.labels.tollgate\.dev/admitted} {.spec.securityContext.seccompProfile.type} {.spec.containers[0].securityContext.allowPrivilegeEscalation}`)
		if out != "true RuntimeDefault false" {
			t.Errorf("mutated fields = %q, want %q", out, "true RuntimeDefault false")
		}
	})

	step("tag pinned to the registry digest", func(t *testing.T) {
		img := regHost + "/team/app:1.0"
		mustKubectl(t, c, "run", "pin", "--image="+img)
		out := mustKubectl(t, c, "get", "pod", "pin", "-o", "jsonpath={.spec.containers[0].image}")
		if out != img+"@"+pinned {
			t.Errorf("image = %q, want %q", out, img+"@"+pinned)
		}
	})

	step("certificate rotated on disk is served without restart", func(t *testing.T) {
		before := servedSerial(t, c.tgPort)
		pid := c.server.cmd.Process.Pid
		c.tg("certs", "--dir", c.tgDir, "--hosts", "127.0.0.1,localhost")
		ok, _ := eventually(15*time.Second, 100*time.Millisecond, func() (bool, string) {
			return servedSerial(t, c.tgPort).Cmp(before) != 0, ""
		})
		if !ok {
			t.Fatal("tollgate still serves the old certificate")
		}
		if !c.server.running() || c.server.cmd.Process.Pid != pid {
			t.Fatal("tollgate restarted")
		}
		// The apiserver reaches tollgate through the new certificate: an
		// uncached image is judged (denied with tollgate's reason) …
		_, errOut, err := c.kubectl("run", "rot-latest", "--image=redis:latest")
		if err == nil || !strings.Contains(errOut, `tollgate: image "redis:latest" uses tag latest`) {
			t.Fatalf("after rotation: %v %q", err, errOut)
		}
		// … and allowed through both webhooks.
		mustKubectl(t, c, "run", "rot-ok", "--image=redis:7.2")
		metrics := tollgateMetrics(t, c)
		if !strings.Contains(metrics, `tollgate_certificate_reloads_total{result="success"} 1`) {
			t.Errorf("certificate reload not counted:\n%s", grepLines(metrics, "reloads"))
		}
	})

	step("client without the apiserver certificate rejected", func(t *testing.T) {
		ca := filepath.Join(c.tgDir, "ca.pem")
		body := `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[{"image":"nginx:1.16"}]}}`
		resp, err := (&tlsFiles{ca: ca}).client(t).Post(fmt.Sprintf("https://127.0.0.1:%d/image_policy", c.tgPort), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(string(b), `"allowed":false`) {
			t.Errorf("without client cert: %d %s, want 401", resp.StatusCode, b)
		}
		// A certificate from another CA (the control plane's admin
		// certificate), sent even though the server asks for its own CA's,
		// fails the TLS handshake.
		admin, err := tls.LoadX509KeyPair(filepath.Join(c.pki.dir, "admin.crt"), filepath.Join(c.pki.dir, "admin.key"))
		if err != nil {
			t.Fatal(err)
		}
		cl := (&tlsFiles{ca: ca}).client(t)
		cl.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &admin, nil
		}
		if resp, err := cl.Post(fmt.Sprintf("https://127.0.0.1:%d/image_policy", c.tgPort), "application/json", strings.NewReader(body)); err == nil {
			resp.Body.Close()
			t.Errorf("a client certificate from another CA was accepted: %d", resp.StatusCode)
		} else {
			t.Logf("foreign client certificate: %v", err)
		}
		if m := tollgateMetrics(t, c); !strings.Contains(m, `tollgate_requests_total{decision="unauthorized",route="image_policy"} 1`) {
			t.Errorf("401 not counted:\n%s", grepLines(m, "tollgate_requests_total"))
		}
	})

	step("tollgate stopped, defaultAllow true: fail open", func(t *testing.T) {
		// failurePolicy Fail webhooks would block every pod: remove them first.
		mustKubectl(t, c, "delete", "-f", filepath.Join(c.tgDir, "webhooks.yaml"))
		// Only the validating webhook judges Deployments: once the dry run
		// of a refused one passes, the configurations are gone.
		ok, detail := eventually(30*time.Second, 300*time.Millisecond, func() (bool, string) {
			_, errOut, err := c.kubectl("create", "deployment", "probe", "--image=nginx", "--dry-run=server")
			return err == nil, errOut
		})
		if !ok {
			t.Fatalf("webhooks still called: %s", detail)
		}
		graceful, err := c.server.stop(t, 30*time.Second)
		if !graceful || err != nil {
			t.Fatalf("tollgate did not exit cleanly on SIGTERM: graceful=%v err=%v\n%s", graceful, err, c.server.tail(10))
		}
		if !strings.Contains(c.server.tail(5), "msg=stopped") {
			t.Errorf("tollgate log does not end with its shutdown:\n%s", c.server.tail(5))
		}
		// An image the policy denies: admitted only because tollgate is
		// unreachable and defaultAllow is true (the 1 s deny TTL of the
		// earlier "nginx" review has long expired).
		mustKubectl(t, c, "run", "open", "--image=nginx")
		if a := c.auditAnnotations(t, "open"); a["imagepolicywebhook.image-policy.k8s.io/failed-open"] != "true" {
			t.Errorf("no failed-open audit annotation: %v", a)
		}
	})

	// A second apiserver start, with defaultAllow false.
	c.kcm.stop(t, 15*time.Second)
	c.apiserver.stop(t, 15*time.Second)
	closedDir := filepath.Join(c.work, "closed")
	c.tg("apiserver-config", "--dir", closedDir, "--cert-dir", c.tgDir, "--url", url, "--allow-ttl", "1", "--deny-ttl", "1", "--default-allow=false")
	c.startAPIServer(filepath.Join(closedDir, "admission_configuration.yaml"))

	step("tollgate stopped, defaultAllow false: refused", func(t *testing.T) {
		_, errOut, err := c.kubectl("run", "closed", "--image=nginx:1.19")
		if err == nil || !strings.Contains(errOut, `pods "closed" is forbidden`) ||
			!strings.Contains(errOut, fmt.Sprintf("127.0.0.1:%d", c.tgPort)) {
			t.Fatalf("kubectl run with tollgate down: %v %q, want a refusal naming tollgate's address", err, errOut)
		}
		t.Logf("refusal: %s", strings.TrimSpace(errOut))
		c.startTollgate()
		mustKubectl(t, c, "run", "closed-ok", "--image=nginx:1.19")
	})
}

// createDeploymentWithPod is the seed's first test: kubectl create
// deployment NAME --image=IMAGE, and its pod appears.
func createDeploymentWithPod(t *testing.T, c *cluster, name, image string) {
	t.Helper()
	mustKubectl(t, c, "create", "deployment", name, "--image="+image)
	ok, detail := eventually(60*time.Second, 500*time.Millisecond, func() (bool, string) {
		out, errOut, _ := c.kubectl("get", "pods", "-l", "app="+name, "-o", "jsonpath={.items[*].metadata.name}")
		return strings.HasPrefix(out, name+"-"), out + errOut
	})
	if !ok {
		t.Fatalf("%s has no pod: %s", name, detail)
	}
}

func mustKubectl(t *testing.T, c *cluster, args ...string) string {
	t.Helper()
	out, errOut, err := c.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func servedSerial(t *testing.T, port int) *big.Int {
	t.Helper()
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

func tollgateMetrics(t *testing.T, c *cluster) string {
	t.Helper()
	resp, err := (&tlsFiles{ca: filepath.Join(c.tgDir, "ca.pem")}).client(t).Get(fmt.Sprintf("https://127.0.0.1:%d/metrics", c.tgPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func pushImage(t *testing.T, ref string) string {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	return pushTo(t, ref, img)
}
