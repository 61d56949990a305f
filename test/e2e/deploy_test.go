package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// certManagerVersion is the cert-manager release whose CRDs the
// cert-manager overlay is checked against; they are read from its Go module
// at test time, never kept in the repository.
const certManagerVersion = "v1.21.2"

// deployDirs are the kustomizations under deploy/ that the tests render:
// the base with its TLS material and the two overlays.
var deployDirs = []string{".", "overlays/redis", "overlays/cert-manager"}

// stageDeploy copies deploy/ into a temporary directory and fills its pki/
// the way the README says: tollgate certs, then tollgate apiserver-config
// --kustomize. The repository's own deploy/pki is never touched. It
// returns the copy of deploy/ and its pki directory.
func stageDeploy(t *testing.T, tollgate, url string) (string, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "deploy")
	src := filepath.Join("..", "..", "deploy")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(root, rel), 0o755)
		}
		if filepath.Dir(rel) == "pki" && d.Name() != "kustomization.yaml" {
			return nil // a developer's own certificates
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(root, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying deploy/: %v", err)
	}
	pki := filepath.Join(root, "pki")
	for _, args := range [][]string{
		{"certs", "--dir", pki, "--hosts", "tollgate.tollgate.svc,127.0.0.1"},
		{"apiserver-config", "--dir", pki, "--url", url, "--service", "tollgate/tollgate", "--kustomize", pki, "--allow-ttl", "1", "--deny-ttl", "1"},
	} {
		if out, errOut, err := run(60*time.Second, tollgate, args...); err != nil {
			t.Fatalf("tollgate %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
	}
	return root, pki
}

// maxDeploymentScore is the highest score tollgate's rules of a rule set
// give a Deployment: the sum of the positive points of the rules that
// apply to it, from tollgate kube rules.
func maxDeploymentScore(t *testing.T, tollgate, ruleset string) int {
	t.Helper()
	out, errOut, err := run(30*time.Second, tollgate, "kube", "rules")
	if err != nil {
		t.Fatalf("tollgate kube rules: %v %s", err, errOut)
	}
	total := 0
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		pts, err := strconv.Atoi(f[1])
		inSet := f[2] == "default" || f[2] == ruleset
		kinds := strings.Join(f[3:], " ")
		if err == nil && pts > 0 && inSet && strings.Contains(kinds, "Deployment,") {
			total += pts
		}
	}
	return total
}

type kubeReport struct {
	Object  string `json:"object"`
	Valid   bool   `json:"valid"`
	Score   int    `json:"score"`
	Scoring struct {
		Critical []struct {
			ID string `json:"id"`
		} `json:"critical"`
	} `json:"scoring"`
}

// TestDeployScores renders deploy/ (the base and each overlay) with
// kubectl kustomize and scores it with tollgate kube scan: no critical
// finding anywhere, and the Deployment at the top of the default rules.
func TestDeployScores(t *testing.T) {
	bin := controlPlaneDir(t)
	tollgate := tollgateBinary(t)
	root, _ := stageDeploy(t, tollgate, "https://127.0.0.1:8443")
	want := maxDeploymentScore(t, tollgate, "default")
	if want < 18 { // the rules' own sum today; fewer means the parse broke
		t.Fatalf("highest Deployment score from tollgate kube rules = %d", want)
	}
	for _, d := range deployDirs {
		t.Run(d, func(t *testing.T) {
			rendered, errOut, err := run(60*time.Second, filepath.Join(bin, "kubectl"), "kustomize", filepath.Join(root, d))
			if err != nil {
				t.Fatalf("kubectl kustomize %s: %v\n%s", d, err, errOut)
			}
			file := filepath.Join(t.TempDir(), "rendered.yaml")
			os.WriteFile(file, []byte(rendered), 0o644)
			// kube scan exits 2 here: the kinds that are not workloads
			// score 0. The reports are what counts.
			out, errOut, _ := run(60*time.Second, tollgate, "kube", "scan", file)
			var reports []kubeReport
			if err := json.Unmarshal([]byte(out), &reports); err != nil {
				t.Fatalf("kube scan output: %v\n%s%s", err, out, errOut)
			}
			deployments := 0
			for _, r := range reports {
				if !r.Valid {
					t.Errorf("%s: invalid document", r.Object)
				}
				for _, c := range r.Scoring.Critical {
					t.Errorf("%s: critical finding %s", r.Object, c.ID)
				}
				if strings.HasPrefix(r.Object, "Deployment/") {
					deployments++
					if r.Score != want {
						t.Errorf("%s scores %d, want the highest the rules allow, %d", r.Object, r.Score, want)
					}
				}
			}
			if deployments == 0 {
				t.Errorf("no Deployment in %s (%d documents)", d, len(reports))
			}
			t.Logf("%s: %d documents, %d Deployment(s) at %d", d, len(reports), deployments, want)
		})
	}
}

// TestDeployControlPlane applies deploy/ to the real control plane, then —
// there is no node — runs tollgate exactly as the Deployment's pod spec
// says (its arguments, its volumes as files, its uid, gid and fsGroup),
// points the deployed webhook configurations at that process and runs the
// seed's ImagePolicyWebhook test through them.
func TestDeployControlPlane(t *testing.T) {
	c := newCluster(t)
	url := fmt.Sprintf("https://127.0.0.1:%d", c.tgPort)
	root, pki := stageDeploy(t, c.tollgate, url)
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
		c.stopAll()
	})
	c.startEtcd()
	// The apiserver's ImagePolicyWebhook uses the files apiserver-config
	// wrote beside the certificates, pointing at the process below.
	c.startAPIServer(filepath.Join(pki, "admission_configuration.yaml"))
	c.startControllerManager()

	// A server-side dry run cannot create the namespace the other objects
	// go in: make it first, from the base's own manifest.
	mustKubectl(t, c, "apply", "-f", filepath.Join(root, "base", "namespace.yaml"))
	for _, d := range []string{".", "overlays/redis"} {
		mustKubectl(t, c, "apply", "--dry-run=server", "-k", filepath.Join(root, d))
	}
	// cert-manager's CRDs, from its Go module.
	crds := certManagerCRDs(t)
	mustKubectl(t, c, "apply", "--server-side", "-f", crds)
	ok, detail := eventually(30*time.Second, 300*time.Millisecond, func() (bool, string) {
		_, errOut, err := c.kubectl("apply", "--dry-run=server", "-k", filepath.Join(root, "overlays", "cert-manager"))
		return err == nil, errOut
	})
	if !ok {
		t.Fatalf("dry run of the cert-manager overlay: %s", detail)
	}

	// The real thing: every object is created.
	rendered := filepath.Join(c.work, "rendered.yaml")
	out := mustKubectl(t, c, "kustomize", root)
	os.WriteFile(rendered, []byte(out), 0o644)
	mustKubectl(t, c, "apply", "-k", root)
	got := mustKubectl(t, c, "get", "-f", rendered, "-o", "name")
	names := strings.Fields(got)
	wantKinds := []string{"namespace/", "serviceaccount/", "configmap/", "secret/", "service/", "deployment.apps/",
		"poddisruptionbudget.policy/", "validatingwebhookconfiguration.admissionregistration.k8s.io/",
		"mutatingwebhookconfiguration.admissionregistration.k8s.io/"}
	if len(names) != len(wantKinds) {
		t.Errorf("objects after apply: %v, want one of each of %v", names, wantKinds)
	}
	for _, k := range wantKinds {
		if !strings.Contains(got, k) {
			t.Errorf("no %s object after kubectl apply -k (got %v)", k, names)
		}
	}
	// Run the pod's main container as the pod spec says.
	c.server = runAsPod(t, c, pki)
	c.waitHTTP("tollgate (as its pod)", url+"/readyz", &tlsFiles{ca: filepath.Join(pki, "ca.pem")}, 30*time.Second)
	// The Deployment controller made its 2 pods (pending: no node), once
	// the ImagePolicyWebhook could reach tollgate to admit their image.
	ok, detail = eventually(90*time.Second, 500*time.Millisecond, func() (bool, string) {
		out, errOut, _ := c.kubectl("-n", "tollgate", "get", "pods", "-l", "app.kubernetes.io/component=admission", "-o", "name")
		return len(strings.Fields(out)) == 2, out + errOut
	})
	if !ok {
		t.Errorf("tollgate's 2 pods were not created: %s", detail)
	}

	// The image's HEALTHCHECK command against it.
	if out, errOut, err := run(30*time.Second, c.tollgate, "health", "--url", url+"/healthz", "--ca", filepath.Join(pki, "ca.pem")); err != nil {
		t.Errorf("tollgate health: %v %s%s", err, out, errOut)
	}

	// Point the deployed webhook configurations at it: the Service has no
	// endpoints here. Everything else (caBundle, failurePolicy,
	// namespaceSelector, rules) stays as deployed.
	for _, w := range []struct{ kind, name, path string }{
		{"validatingwebhookconfiguration", "tollgate-validate", "/validate"},
		{"mutatingwebhookconfiguration", "tollgate-mutate", "/mutate"},
	} {
		patch := fmt.Sprintf(`[{"op":"remove","path":"/webhooks/0/clientConfig/service"},{"op":"add","path":"/webhooks/0/clientConfig/url","value":%q}]`, url+w.path)
		mustKubectl(t, c, "patch", w.kind, w.name, "--type=json", "-p", patch)
	}
	ok, detail = eventually(30*time.Second, 300*time.Millisecond, func() (bool, string) {
		_, errOut, err := c.kubectl("create", "deployment", "probe", "--image=nginx", "--dry-run=server")
		return err != nil && strings.Contains(errOut, `admission webhook "validate.tollgate.dev" denied the request`), errOut
	})
	if !ok {
		t.Fatalf("the deployed validating webhook never answered: %s", detail)
	}

	// The seed's test (its step 4).
	t.Run("web1 nginx:1.16 gets its pod", func(t *testing.T) {
		createDeploymentWithPod(t, c, "web1", "nginx:1.16")
	})
	t.Run("web2 nginx refused", func(t *testing.T) {
		_, errOut, err := c.kubectl("create", "deployment", "web2", "--image=nginx")
		want := `admission webhook "validate.tollgate.dev" denied the request: tollgate: container "nginx" (spec.template.spec.containers[0].image): image "nginx" has no tag`
		if err == nil || !strings.Contains(errOut, want) {
			t.Fatalf("create web2: %v %q, want %q", err, errOut, want)
		}
	})
	t.Run("nginx:latest pod refused", func(t *testing.T) {
		_, errOut, err := c.kubectl("run", "x", "--image=nginx:latest")
		if err == nil || !strings.Contains(errOut, `image "nginx:latest" uses tag latest`) {
			t.Fatalf("kubectl run nginx:latest: %v %q", err, errOut)
		}
	})
	if m := tollgateMetrics(t, &cluster{tgDir: pki, tgPort: c.tgPort}); !strings.Contains(m, `tollgate_requests_total{decision="deny",route="validate"}`) ||
		!strings.Contains(m, `route="image_policy"`) {
		t.Errorf("the process as the pod did not answer both plugins:\n%s", grepLines(m, "tollgate_requests_total"))
	}
}

// certManagerCRDs downloads cert-manager's module through the Go module
// proxy and returns its deploy/crds directory.
func certManagerCRDs(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/cert-manager/cert-manager@"+certManagerVersion)
	cmd.Dir = t.TempDir() // outside any module: nothing reaches a go.mod
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		requireE2E(t, "go mod download cert-manager %s: %v %s", certManagerVersion, err, stderr.String())
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %v %s %s", err, mod.Error, out)
	}
	dir := filepath.Join(mod.Dir, "deploy", "crds")
	if _, err := os.Stat(filepath.Join(dir, "cert-manager.io_certificates.yaml")); err != nil {
		t.Fatalf("cert-manager %s has no CRDs where expected: %v", certManagerVersion, err)
	}
	return dir
}

// podSpec is the part of the Deployment that says how its container runs.
type podSpec struct {
	Spec struct {
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsUser, RunAsGroup, FSGroup *int64
					RunAsNonRoot                   *bool
				} `json:"securityContext"`
				Containers []struct {
					Name         string   `json:"name"`
					Args         []string `json:"args"`
					VolumeMounts []struct {
						Name, MountPath string
						ReadOnly        bool
					} `json:"volumeMounts"`
					SecurityContext struct {
						RunAsUser, RunAsGroup  *int64
						ReadOnlyRootFilesystem *bool
					} `json:"securityContext"`
				} `json:"containers"`
				Volumes []struct {
					Name   string `json:"name"`
					Secret *struct {
						SecretName  string `json:"secretName"`
						DefaultMode *int32 `json:"defaultMode"`
						Items       []struct{ Key, Path string }
					} `json:"secret"`
					ConfigMap *struct {
						Name string `json:"name"`
					} `json:"configMap"`
					EmptyDir *struct{} `json:"emptyDir"`
				} `json:"volumes"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// runAsPod starts tollgate as the deployed Deployment's first container
// would run: its arguments; each volume written out as the kubelet would
// (Secret items with defaultMode and the fsGroup, ConfigMap keys, emptyDirs
// owned by the fsGroup) under a directory standing for its mountPath; the
// pod's uid, gid and fsGroup. Two things differ, and only those: paths
// under the mount points are rewritten to those directories (the test
// cannot mount over the machine's /etc), and --addr=:8443 listens on
// 127.0.0.1 at the port the apiserver was given. With readOnlyRootFilesystem
// the process gets a mount namespace of its own (unshare) in which / is
// read-only and only its writable volumes are not.
func runAsPod(t *testing.T, c *cluster, pki string) *proc {
	t.Helper()
	var dep podSpec
	if err := json.Unmarshal([]byte(mustKubectl(t, c, "-n", "tollgate", "get", "deployment", "tollgate", "-o", "json")), &dep); err != nil {
		t.Fatalf("decoding the Deployment: %v", err)
	}
	ps := dep.Spec.Template.Spec
	if len(ps.Containers) == 0 || ps.SecurityContext.RunAsUser == nil || ps.SecurityContext.RunAsGroup == nil || ps.SecurityContext.FSGroup == nil {
		t.Fatalf("the pod spec has no container or no numeric uid/gid/fsGroup: %+v", ps)
	}
	ctr := ps.Containers[0]
	uid, gid, fsGroup := uint32(*ps.SecurityContext.RunAsUser), uint32(*ps.SecurityContext.RunAsGroup), uint32(*ps.SecurityContext.FSGroup)
	if uid == 0 || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
		t.Fatalf("the pod would run as root: %+v", ps.SecurityContext)
	}
	if os.Geteuid() != 0 {
		requireE2E(t, "running tollgate as uid %d needs root", uid)
	}

	// A world-traversable root for what the process must reach.
	podRoot := filepath.Join(c.work, "pod")
	os.MkdirAll(podRoot, 0o755)
	// t.TempDir() makes its directories 0700, root's.
	os.Chmod(c.work, 0o755)
	os.Chmod(filepath.Dir(c.work), 0o755)
	binCopy := filepath.Join(podRoot, "tollgate")
	b, err := os.ReadFile(c.tollgate)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(binCopy, b, 0o755)

	volDirs := map[string]string{}
	for _, v := range ps.Volumes {
		dir := filepath.Join(podRoot, "volumes", v.Name)
		os.MkdirAll(dir, 0o755)
		switch {
		case v.Secret != nil:
			var sec struct{ Data map[string]string }
			json.Unmarshal([]byte(mustKubectl(t, c, "-n", "tollgate", "get", "secret", v.Secret.SecretName, "-o", "json")), &sec)
			mode := os.FileMode(0o644)
			if v.Secret.DefaultMode != nil {
				mode = os.FileMode(*v.Secret.DefaultMode)
			}
			for _, it := range v.Secret.Items {
				data, err := base64.StdEncoding.DecodeString(sec.Data[it.Key])
				if err != nil || len(data) == 0 {
					t.Fatalf("secret %s has no key %s", v.Secret.SecretName, it.Key)
				}
				p := filepath.Join(dir, it.Path)
				os.WriteFile(p, data, mode)
				os.Chmod(p, mode)
				os.Chown(p, 0, int(fsGroup))
			}
		case v.ConfigMap != nil:
			var cm struct{ Data map[string]string }
			json.Unmarshal([]byte(mustKubectl(t, c, "-n", "tollgate", "get", "configmap", v.ConfigMap.Name, "-o", "json")), &cm)
			for k, val := range cm.Data {
				os.WriteFile(filepath.Join(dir, k), []byte(val), 0o644)
			}
		case v.EmptyDir != nil:
			os.Chown(dir, 0, int(fsGroup))
			os.Chmod(dir, 0o2775)
		}
		volDirs[v.Name] = dir
	}
	args := make([]string, 0, len(ctr.Args))
	for _, a := range ctr.Args {
		if a == "--addr=:8443" {
			a = fmt.Sprintf("--addr=127.0.0.1:%d", c.tgPort)
		}
		// The longest mount path that holds the flag's file wins, once.
		best := ""
		for _, m := range ctr.VolumeMounts {
			if strings.Contains(a, "="+m.MountPath+"/") && len(m.MountPath) > len(best) {
				best = m.MountPath
			}
		}
		for _, m := range ctr.VolumeMounts {
			if m.MountPath == best {
				a = strings.Replace(a, "="+m.MountPath+"/", "="+volDirs[m.Name]+"/", 1)
			}
		}
		args = append(args, a)
	}
	if !strings.Contains(strings.Join(args, " "), fmt.Sprintf("127.0.0.1:%d", c.tgPort)) {
		t.Fatalf("the container's arguments have no --addr=:8443 to map: %q", ctr.Args)
	}
	t.Logf("running as uid %d gid %d (fsGroup %d): tollgate %s", uid, gid, fsGroup, strings.Join(args, " "))

	logPath := filepath.Join(c.logs, "tollgate-pod.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	readOnlyRoot := ctr.SecurityContext.ReadOnlyRootFilesystem != nil && *ctr.SecurityContext.ReadOnlyRootFilesystem
	cmd := podCommand(t, uid, gid, fsGroup, readOnlyRoot, ctr.VolumeMounts, volDirs, binCopy, args)
	cmd.Dir = podRoot
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting tollgate as the pod: %v", err)
	}
	checkPodProcess(t, cmd.Process.Pid, uid, readOnlyRoot && cmd.Path != binCopy)
	p := &proc{name: "tollgate-pod", cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p
}

// podCommand is the command that starts bin as the pod's container: in a
// private mount namespace where / is remounted read-only (when the pod spec
// asks for it) with each volume bind-mounted over itself, read-only unless
// the container mounts it writable (emptyDirs), then setpriv to the pod's
// uid, gid and fsGroup. Without unshare and setpriv (util-linux) it falls
// back to the credentials alone and says so.
func podCommand(t *testing.T, uid, gid, fsGroup uint32, readOnlyRoot bool, mounts []struct {
	Name, MountPath string
	ReadOnly        bool
}, volDirs map[string]string, bin string, args []string) *exec.Cmd {
	t.Helper()
	unshare, err1 := exec.LookPath("unshare")
	setpriv, err2 := exec.LookPath("setpriv")
	if err1 != nil || err2 != nil {
		t.Logf("no unshare/setpriv: running as uid %d without a read-only root", uid)
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{fsGroup}}}
		return cmd
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, m := range mounts {
		d := volDirs[m.Name]
		fmt.Fprintf(&script, "mount --bind '%s' '%s'\n", d, d)
		if m.ReadOnly {
			fmt.Fprintf(&script, "mount -o remount,bind,ro '%s'\n", d)
		}
	}
	if readOnlyRoot {
		script.WriteString("mount -o remount,bind,ro /\n")
	}
	fmt.Fprintf(&script, "exec %s --reuid=%d --regid=%d --groups=%d -- \"$@\"\n", setpriv, uid, gid, fsGroup)
	return exec.Command(unshare, append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", script.String(), "sh", bin}, args...)...)
}

// checkPodProcess waits for pid to be the server itself (after the exec
// chain) and checks its uid and, when asked, that its root is read-only.
func checkPodProcess(t *testing.T, pid int, uid uint32, readOnlyRoot bool) {
	t.Helper()
	ok, detail := eventually(10*time.Second, 50*time.Millisecond, func() (bool, string) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return false, err.Error()
		}
		want := fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d", uid, uid, uid, uid)
		return strings.Contains(string(status), want), string(status)
	})
	if !ok {
		t.Fatalf("the process never ran as uid %d:\n%s", uid, detail)
	}
	if !readOnlyRoot {
		return
	}
	mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 5 && f[4] == "/" {
			if !strings.HasPrefix(f[5], "ro") {
				t.Errorf("the process's root is mounted %s, want ro: %s", f[5], l)
			}
			t.Logf("the process's root: %s", l)
			return
		}
	}
	t.Errorf("no root mount in the process's mountinfo:\n%s", mi)
}
