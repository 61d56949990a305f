package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/certs"
)

// testServer is a tollgate serve running on 127.0.0.1 with certificates
// from internal/certs.
type testServer struct {
	dir    string
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, o Options) *testServer {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Generate(certs.Options{Dir: dir, Hosts: []string{"127.0.0.1", "localhost"}}); err != nil {
		t.Fatal(err)
	}
	return startServerIn(t, dir, o)
}

func startServerIn(t *testing.T, dir string, o Options) *testServer {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	o.CertFile = filepath.Join(dir, certs.ServerFile)
	o.KeyFile = filepath.Join(dir, certs.ServerKeyFile)
	if o.ClientCAFile == "-" {
		o.ClientCAFile = ""
	} else {
		o.ClientCAFile = filepath.Join(dir, certs.CAFile)
	}
	addr := make(chan string, 1)
	o.Listening = func(a net.Addr) { addr <- a.String() }
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- Serve(ctx, o) }()
	select {
	case s.addr = <-addr:
	case err := <-s.done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// client returns an HTTPS client trusting the test CA, presenting the
// apiserver client pair when withCert is set; each call makes new
// connections, so it sees the certificate served now.
func (s *testServer) client(t *testing.T, withCert bool) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.dir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if withCert {
		pair, err := tls.LoadX509KeyPair(filepath.Join(s.dir, certs.ClientFile), filepath.Join(s.dir, certs.ClientKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func (s *testServer) post(t *testing.T, c *http.Client, path, body string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Post("https://"+s.addr+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func (s *testServer) metrics(t *testing.T) string {
	t.Helper()
	resp, err := s.client(t, false).Get("https://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// servedSerial connects and returns the serial number of the server's certificate.
func (s *testServer) servedSerial(t *testing.T) *big.Int {
	t.Helper()
	conn, err := tls.Dial("tcp", s.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

const allowedImageReview = `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[{"image":"nginx:1.16"}],"namespace":"default"}}`

func TestServeClientCertificates(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	// With the apiserver's pair: answered, over HTTP/2.
	resp, body := s.post(t, s.client(t, true), "/image_policy", allowedImageReview)
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("with client cert: %d %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
	if want := `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":true}}`; body != want {
		t.Errorf("body %s, want %s", body, want)
	}
	// Without a certificate: 401 with a well-formed ImageReview.
	resp, body = s.post(t, s.client(t, false), "/image_policy", allowedImageReview)
	if resp.StatusCode != 401 {
		t.Errorf("without client cert: %d, want 401", resp.StatusCode)
	}
	if want := `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","status":{"allowed":false,"reason":"tollgate: a client certificate signed by the configured client CA is required"}}`; body != want {
		t.Errorf("401 body %s, want %s", body, want)
	}
	// /validate does not need one by default.
	resp, _ = s.post(t, s.client(t, false), "/validate", admissionReview("u", "CREATE", "Pod", "", pod("nginx:1.16", "")))
	if resp.StatusCode != 200 {
		t.Errorf("/validate without client cert: %d, want 200", resp.StatusCode)
	}
	if m := s.metrics(t); !strings.Contains(m, `tollgate_requests_total{decision="unauthorized",route="image_policy"} 1`) {
		t.Errorf("unauthorized request not counted:\n%s", grep(m, "tollgate_requests_total"))
	}

	// A certificate from another CA fails the handshake.
	other := t.TempDir()
	if _, err := certs.Generate(certs.Options{Dir: other, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	c := s.client(t, false)
	pair, err := tls.LoadX509KeyPair(filepath.Join(other, certs.ClientFile), filepath.Join(other, certs.ClientKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{pair}
	if _, err := c.Post("https://"+s.addr+"/image_policy", "application/json", strings.NewReader(allowedImageReview)); err == nil {
		t.Error("a client certificate from another CA was accepted")
	}
	// TLS 1.1 is refused.
	if conn, err := tls.Dial("tcp", s.addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Error("TLS 1.1 handshake succeeded")
	}
}

func TestServeRequireAll(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{RequireClientCert: RequireAll})
	for _, path := range []string{"/image_policy", "/validate", "/mutate"} {
		body := allowedImageReview
		if path != "/image_policy" {
			body = admissionReview("u-1", "CREATE", "Pod", "", pod("nginx:1.16", ""))
		}
		resp, got := s.post(t, s.client(t, false), path, body)
		if resp.StatusCode != 401 {
			t.Errorf("%s without client cert: %d, want 401", path, resp.StatusCode)
		}
		if path != "/image_policy" && !strings.Contains(got, `"status":{"code":401,"reason":"Unauthorized"`) {
			t.Errorf("%s 401 body: %s", path, got)
		}
		if resp, _ := s.post(t, s.client(t, true), path, body); resp.StatusCode != 200 {
			t.Errorf("%s with client cert: %d, want 200", path, resp.StatusCode)
		}
	}
	// Probes stay open.
	resp, err := s.client(t, false).Get("https://" + s.addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/readyz: %v %v", resp, err)
	}
}

func TestServeOptionErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := certs.Generate(certs.Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, certs.ServerFile), filepath.Join(dir, certs.ServerKeyFile)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec: {images: {denyLatest: {mode: maybe}}}\n"), 0o644)
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"no cert", Options{}, "no serving certificate"},
		{"require without CA", Options{CertFile: cert, KeyFile: key, RequireClientCert: "all"}, "needs a client CA"},
		{"bad requirement", Options{CertFile: cert, KeyFile: key, ClientCAFile: filepath.Join(dir, certs.CAFile), RequireClientCert: "some"}, `"some" is not image-policy or all`},
		{"key mismatch", Options{CertFile: cert, KeyFile: filepath.Join(dir, certs.CAKeyFile)}, "are not a pair: the key does not belong to the certificate"},
		{"bad policy", Options{CertFile: cert, KeyFile: key, PolicyFile: bad}, `"maybe" is not one of enforce`},
		{"bad address", Options{CertFile: cert, KeyFile: key, Addr: "127.0.0.1:99999"}, "listening on"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Serve(context.Background(), tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Serve error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestServeReload rotates the certificate and edits the policy on disk and
// checks both take effect without a restart. The fallback poll is an hour,
// so only file notifications can make it pass in time.
func TestServeReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := certs.Generate(certs.Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	polFile := filepath.Join(dir, "policy.yaml")
	writePolicy := func(doc string) {
		t.Helper()
		tmp := polFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, polFile); err != nil {
			t.Fatal(err)
		}
	}
	writePolicy("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: first}\n")
	s := startServerIn(t, dir, Options{PolicyFile: polFile, ReloadInterval: time.Hour})

	before := s.servedSerial(t)
	if _, err := certs.Generate(certs.Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rotated certificate", func() bool { return s.servedSerial(t).Cmp(before) != 0 })
	// The rotated pair verifies under the same CA, so clients keep working.
	if resp, _ := s.post(t, s.client(t, true), "/image_policy", allowedImageReview); resp.StatusCode != 200 {
		t.Fatalf("after rotation: %d", resp.StatusCode)
	}
	if m := s.metrics(t); !strings.Contains(m, `tollgate_certificate_reloads_total{result="success"}`) ||
		strings.Contains(m, `tollgate_certificate_reloads_total{result="success"} 0`) {
		t.Errorf("certificate reload not counted:\n%s", grep(m, "reloads"))
	}

	quay := `{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[{"image":"quay.io/app:1"}]}}`
	if _, body := s.post(t, s.client(t, true), "/image_policy", quay); !strings.Contains(body, `"allowed":true`) {
		t.Fatalf("first policy: %s", body)
	}
	writePolicy("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: second}\nspec:\n  images:\n    allowedRegistries: {mode: enforce, registries: [docker.io]}\n")
	waitFor(t, "the new policy", func() bool {
		_, body := s.post(t, s.client(t, true), "/image_policy", quay)
		return strings.Contains(body, `is from registry quay.io, which is not allowed`)
	})
	// A broken policy is refused and the previous one stays in force.
	writePolicy("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec: {images: {nope: 1}}\n")
	waitFor(t, "the reload error", func() bool {
		return strings.Contains(s.metrics(t), `tollgate_policy_reloads_total{result="error"} 1`)
	})
	if _, body := s.post(t, s.client(t, true), "/image_policy", quay); !strings.Contains(body, "not allowed") {
		t.Errorf("after a broken policy: %s, want the second policy still in force", body)
	}
	if m := s.metrics(t); !strings.Contains(m, `tollgate_policy_info{name="second"} 1`) {
		t.Errorf("policy info:\n%s", grep(m, "policy"))
	}
}

// blockingResolver holds every digest look-up until released.
type blockingResolver struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingResolver) Digest(ctx context.Context, _ string) (string, error) {
	b.once.Do(func() { close(b.entered) })
	select {
	case <-b.release:
		return testDigest, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// TestServeGracefulShutdown cancels the server while a request is in
// flight: the request completes, then Serve returns.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := certs.Generate(certs.Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	polFile := filepath.Join(dir, "policy.yaml")
	os.WriteFile(polFile, []byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  mutations:\n    pinDigests: {enabled: true, timeoutSeconds: 20}\n"), 0o644)
	res := &blockingResolver{entered: make(chan struct{}), release: make(chan struct{})}
	s := startServerIn(t, dir, Options{PolicyFile: polFile, Resolver: res, ShutdownTimeout: 20 * time.Second})
	c := s.client(t, false)
	type result struct {
		code int
		body string
	}
	got := make(chan result, 1)
	go func() {
		resp, err := c.Post("https://"+s.addr+"/mutate", "application/json",
			strings.NewReader(admissionReview("u-g", "CREATE", "Pod", "", pod("reg.io/app:1", ""))))
		if err != nil {
			got <- result{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b)}
	}()
	<-res.entered
	s.cancel() // what SIGTERM does
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-s.done:
		t.Fatalf("Serve returned while a request was in flight: %v", err)
	default:
	}
	// No new connections are accepted.
	if conn, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		conn.Close()
		t.Error("new connection accepted during shutdown")
	}
	close(res.release)
	r := <-got
	if r.code != 200 || !strings.Contains(r.body, `"patchType":"JSONPatch"`) {
		t.Errorf("in-flight request: %d %s", r.code, r.body)
	}
	if err := <-s.done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	s.done <- nil // for the cleanup
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
