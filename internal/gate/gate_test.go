package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/signature/cosigntest"
)

const digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func mustPolicy(t *testing.T, spec string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: t}\nspec:\n" + spec))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeScanner returns fixed facts after an optional wait; it counts scans.
type fakeScanner struct {
	facts   *policy.ScanFacts
	err     error
	release chan struct{} // nil: answer at once
	scans   atomic.Int32
}

func (f *fakeScanner) DataVersion() (string, error) { return "db1", nil }

func (f *fakeScanner) Scan(ctx context.Context, ref string, _ Scanners) (*policy.ScanFacts, error) {
	f.scans.Add(1)
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.facts, f.err
}

type fakeResolver struct {
	digest string
	err    error
	calls  atomic.Int32
}

func (r *fakeResolver) Digest(context.Context, string) (string, error) {
	r.calls.Add(1)
	return r.digest, r.err
}

var critical = &policy.ScanFacts{Vulnerabilities: []policy.VulnFact{
	{ID: "CVE-2024-0001", Aliases: []string{"DSA-1-1"}, Package: "openssl", Installed: "3.0.1", Fixed: "3.0.2", Severity: "CRITICAL"},
	{ID: "CVE-2024-0002", Package: "zlib", Installed: "1.2", Severity: "HIGH"},
	{ID: "CVE-2024-0003", Package: "curl", Installed: "7.0", Severity: "CRITICAL"},
}}

// TestDecisionPaths runs every path of a decision through Review and
// checks the findings exactly.
func TestDecisionPaths(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	type tc struct {
		name    string
		spec    string
		image   string
		ns      string
		scanner *fakeScanner
		resolve *fakeResolver
		want    []policy.Finding
	}
	img := "registry.example/app:1"
	cases := []tc{
		{name: "critical denies, worst first", spec: "  vulnerabilities: {}\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce", Message: "image registry.example/app:1 (" + digestA + "): 2 vulnerabilities above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2), CVE-2024-0003 CRITICAL in curl 7.0 (no fix yet)"}}},
		{name: "ignoreUnfixed drops the unfixed one", spec: "  vulnerabilities: {ignoreUnfixed: true}\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce", Message: "image registry.example/app:1 (" + digestA + "): 1 vulnerability above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2)"}}},
		{name: "maxSeverity MEDIUM counts HIGH too", spec: "  vulnerabilities: {maxSeverity: MEDIUM, ignore: [{id: CVE-2024-0003, reason: r}]}\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce", Message: "image registry.example/app:1 (" + digestA + "): 2 vulnerabilities above MEDIUM: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2), CVE-2024-0002 HIGH in zlib 1.2 (no fix yet)"}}},
		{name: "ignored by alias, future expiry: admitted", spec: "  vulnerabilities:\n    ignore: [{id: DSA-1-1, reason: r, expires: 2027-01-01}, {id: CVE-2024-0003, reason: r}]\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA}},
		{name: "past expiry denies again", spec: "  vulnerabilities:\n    ignore: [{id: CVE-2024-0001, reason: r, expires: 2026-12-01}, {id: CVE-2024-0003, reason: r}]\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce", Message: "image registry.example/app:1 (" + digestA + "): 1 vulnerability above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2)"}}},
		{name: "namespace-limited ignore elsewhere", spec: "  vulnerabilities:\n    ignore: [{id: CVE-2024-0001, reason: r, namespaces: [other]}, {id: CVE-2024-0003, reason: r}]\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce", Message: "image registry.example/app:1 (" + digestA + "): 1 vulnerability above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2)"}}},
		{name: "exempt namespace: no scan, no registry", spec: "  vulnerabilities: {exemptNamespaces: [ops]}\n", image: img, ns: "ops",
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA}},
		{name: "spec.exemptions covers the rule", spec: "  vulnerabilities: {}\n  exemptions: [{namespaces: [ops], rules: [vulnerabilities]}]\n", image: img, ns: "ops",
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA}},
		{name: "out of the rule's images scope", spec: "  vulnerabilities: {images: [\"other.example/**\"]}\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA}},
		{name: "warn mode", spec: "  vulnerabilities: {mode: warn}\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "warn", Message: "image registry.example/app:1 (" + digestA + "): 2 vulnerabilities above HIGH: CVE-2024-0001 CRITICAL in openssl 3.0.1 (fixed in 3.0.2), CVE-2024-0003 CRITICAL in curl 7.0 (no fix yet)"}}},
		{name: "pinned reference: no resolution", spec: "  vulnerabilities: {maxSeverity: CRITICAL}\n", image: "registry.example/app:1@" + digestA,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{err: errors.New("must not be called")}},
		{name: "resolution fails, onError deny", spec: "  vulnerabilities: {}\n", image: img,
			scanner: &fakeScanner{facts: critical}, resolve: &fakeResolver{err: errors.New("registry.example: connection refused")},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce", Message: "image registry.example/app:1: vulnerability scan failed: registry.example: connection refused"}}},
		{name: "scan fails, onError allow", spec: "  vulnerabilities: {onError: allow}\n", image: img,
			scanner: &fakeScanner{err: errors.New("layer sha256:12 is truncated")}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "warn", Message: "image registry.example/app:1 (" + digestA + "): not checked (onError: allow): vulnerability scan failed: layer sha256:12 is truncated"}}},
		{name: "unchecked packages warn under HIGH", spec: "  vulnerabilities: {}\n", image: img,
			scanner: &fakeScanner{facts: &policy.ScanFacts{Unchecked: []policy.VulnFact{{Package: "foo", Installed: "x!1", Severity: "UNKNOWN"}}}}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "warn", Message: "image registry.example/app:1 (" + digestA + "): not decided for 1 packages whose versions could not be compared with their advisories: foo x!1"}}},
		{name: "unchecked packages deny under NONE", spec: "  vulnerabilities: {maxSeverity: NONE}\n", image: img,
			scanner: &fakeScanner{facts: &policy.ScanFacts{Unchecked: []policy.VulnFact{{Package: "foo", Installed: "x!1", Severity: "UNKNOWN"}}}}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce", Message: "image registry.example/app:1 (" + digestA + "): 1 vulnerability (maxSeverity NONE): 1 packages whose versions could not be compared with their advisories: foo x!1"}}},
		{name: "image checks: secret denies, misconfig below threshold", spec: "  imageChecks: {}\n", image: img,
			scanner: &fakeScanner{facts: &policy.ScanFacts{Checks: []policy.CheckFact{
				{ID: "aws-access-key-id", Class: "secret", Severity: "CRITICAL", Title: "AWS Access Key ID", Path: "/app/.env"},
				{ID: "CIS-DI-0006", Class: "misconfig", Severity: "LOW", Title: "No HEALTHCHECK"},
			}}}, resolve: &fakeResolver{digest: digestA},
			want: []policy.Finding{{Rule: "imageChecks", Mode: "enforce", Message: "image registry.example/app:1 (" + digestA + "): 1 finding above HIGH: aws-access-key-id CRITICAL AWS Access Key ID at /app/.env"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := mustPolicy(t, c.spec)
			g := New(Options{Resolver: c.resolve, Scanner: c.scanner, Budget: time.Minute, Now: func() time.Time { return now }})
			ns := c.ns
			if ns == "" {
				ns = "default"
			}
			got := g.Review(context.Background(), pol, ns, []policy.ImageUse{{Image: c.image}})
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if strings.Contains(c.name, "no registry") || strings.Contains(c.name, "scope") {
				if c.resolve.calls.Load() != 0 || c.scanner.scans.Load() != 0 {
					t.Errorf("resolver called %d times, scanner %d: want neither", c.resolve.calls.Load(), c.scanner.scans.Load())
				}
			}
		})
	}
}

// TestFirstSight: a scan longer than the budget decides by onError, goes
// on in the background, and the next decision comes from the cache
// without a second scan.
func TestFirstSight(t *testing.T) {
	for _, onError := range []string{"deny", "allow"} {
		t.Run(onError, func(t *testing.T) {
			pol := mustPolicy(t, "  vulnerabilities: {onError: "+onError+"}\n")
			sc := &fakeScanner{facts: critical, release: make(chan struct{})}
			m := NewMetrics()
			g := New(Options{Resolver: &fakeResolver{digest: digestA}, Scanner: sc, Budget: 50 * time.Millisecond, Metrics: m})
			uses := []policy.ImageUse{{Image: "registry.example/app:1", What: `container "app"`, Field: "spec.containers[0].image"}}
			got := g.Review(context.Background(), pol, "default", uses)
			want := policy.Finding{Rule: "vulnerabilities", Mode: "enforce",
				Message: `container "app" (spec.containers[0].image): image registry.example/app:1 (` + digestA + `): vulnerability scan not finished within 50ms (a new digest); it goes on in the background, retry shortly`}
			if onError == "allow" {
				want.Mode = "warn"
				want.Message = `container "app" (spec.containers[0].image): image registry.example/app:1 (` + digestA + `): not checked (onError: allow): vulnerability scan not finished within 50ms (a new digest); it goes on in the background, retry shortly`
			}
			if diff := cmp.Diff([]policy.Finding{want}, got); diff != "" {
				t.Fatalf("first sight (-want +got):\n%s", diff)
			}
			close(sc.release)
			deadline := time.Now().Add(10 * time.Second)
			for testutil.ToFloat64(m.scans.WithLabelValues("finished")) < 1 {
				if time.Now().After(deadline) {
					t.Fatal("the background scan did not finish")
				}
				time.Sleep(5 * time.Millisecond)
			}
			got = g.Review(context.Background(), pol, "default", uses)
			if len(got) != 1 || !strings.Contains(got[0].Message, "CVE-2024-0001 CRITICAL") || got[0].Mode != policy.Enforce {
				t.Fatalf("retry: %+v, want the cached scan's denial", got)
			}
			if n := sc.scans.Load(); n != 1 {
				t.Errorf("%d scans, want 1", n)
			}
			if n := testutil.ToFloat64(m.scans.WithLabelValues("started")); n != 1 {
				t.Errorf("tollgate_scans_total{started} = %v, want 1", n)
			}
		})
	}
}

// TestConcurrentRequestsScanOnce: many decisions on one new digest share
// one scan.
func TestConcurrentRequestsScanOnce(t *testing.T) {
	pol := mustPolicy(t, "  vulnerabilities: {}\n")
	sc := &fakeScanner{facts: critical, release: make(chan struct{})}
	g := New(Options{Resolver: &fakeResolver{digest: digestA}, Scanner: sc, Budget: 5 * time.Second})
	var wg sync.WaitGroup
	denied := atomic.Int32{}
	for range 20 {
		wg.Go(func() {
			got := g.Review(context.Background(), pol, "default", []policy.ImageUse{{Image: "registry.example/app:1"}})
			if len(got) == 1 && strings.Contains(got[0].Message, "CVE-2024-0001") {
				denied.Add(1)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(sc.release)
	wg.Wait()
	if sc.scans.Load() != 1 || denied.Load() != 20 {
		t.Errorf("%d scans and %d denials, want 1 and 20", sc.scans.Load(), denied.Load())
	}
}

// TestRealScan scans an image in the in-process registry with the real
// pipeline and a DB of the repository's example records.
func TestRealScan(t *testing.T) {
	reg := registrytest.StartRegistry(t)
	ref := reg.Host + "/shop:1"
	registrytest.Push(t, ref, registrytest.DebianImage(t))
	dir := t.TempDir()
	records, err := filepath.Abs("../../examples/vulndb")
	if err != nil {
		t.Fatal(err)
	}
	dbDir := filepath.Join(dir, "db")
	if _, err := advisory.Import(context.Background(), []string{records}, advisory.ImportOptions{Dir: dbDir}); err != nil {
		t.Fatal(err)
	}
	opts := image.Options{Transport: reg.Transport}
	sc := &ImageScanner{DBDir: dbDir, Inventory: inventory.Options{CacheDir: filepath.Join(dir, "cache"), Image: opts}}
	defer sc.Close()
	g := New(Options{Resolver: resolverFunc(func(ctx context.Context, img string) (string, error) { return image.Digest(ctx, img, opts) }),
		Scanner: sc, Budget: time.Minute})
	pol := mustPolicy(t, "  vulnerabilities: {}\n")
	got := g.Review(context.Background(), pol, "default", []policy.ImageUse{{Image: ref}})
	d, err := image.Digest(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.Finding{{Rule: "vulnerabilities", Mode: "enforce",
		Message: "image " + ref + " (" + d + "): 2 vulnerabilities above HIGH: CVE-2023-50002 CRITICAL in libssl3 3.0.11-1~deb12u2 (fixed in 3.0.11-1~deb12u3), GHSA-tg00-0000-0003 CRITICAL in org.apache.commons:commons-text 1.9 (fixed in 1.10.0)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The facts cached are what `tollgate image` reports: the HIGH ones too.
	facts, err := sc.Scan(context.Background(), reg.Host+"/shop@"+d, Scanners{Vulnerabilities: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(facts.Vulnerabilities)
	for _, id := range []string{"CVE-2023-50001", "CVE-2099-50040", "GHSA-tg00-0000-0003"} {
		if !strings.Contains(string(b), id) {
			t.Errorf("facts lack %s: %s", id, b)
		}
	}
}

type resolverFunc func(ctx context.Context, img string) (string, error)

func (f resolverFunc) Digest(ctx context.Context, img string) (string, error) { return f(ctx, img) }

// countingScanner records how many scans run at once.
type countingScanner struct {
	running, peak atomic.Int32
}

func (c *countingScanner) DataVersion() (string, error) { return "db1", nil }

func (c *countingScanner) Scan(ctx context.Context, ref string, _ Scanners) (*policy.ScanFacts, error) {
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	return &policy.ScanFacts{}, nil
}

// TestMaxScans: a burst of new digests runs at most MaxScans scans at once.
func TestMaxScans(t *testing.T) {
	pol := mustPolicy(t, "  vulnerabilities: {}\n")
	sc := &countingScanner{}
	g := New(Options{Scanner: sc, Budget: time.Minute, MaxScans: 2})
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			img := "registry.example/app@sha256:" + strings.Repeat(string(rune('a'+i)), 64)
			if got := g.Review(context.Background(), pol, "default", []policy.ImageUse{{Image: img}}); len(got) != 0 {
				t.Errorf("%s: %+v", img, got)
			}
		})
	}
	wg.Wait()
	if p := sc.peak.Load(); p != 2 {
		t.Errorf("%d scans at once, want 2", p)
	}
}

// BenchmarkCachedDecision is one decision on a digest already scanned.
func BenchmarkCachedDecision(b *testing.B) {
	pol, err := policy.Parse([]byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  vulnerabilities: {}\n"))
	if err != nil {
		b.Fatal(err)
	}
	g := New(Options{Resolver: &fakeResolver{digest: digestA}, Scanner: &fakeScanner{facts: critical}, Budget: time.Minute})
	uses := []policy.ImageUse{{Image: "registry.example/app:1", What: `container "app"`, Field: "spec.containers[0].image"}}
	g.Review(context.Background(), pol, "default", uses)
	b.ReportAllocs()
	for b.Loop() {
		if fs := g.Review(context.Background(), pol, "default", uses); len(fs) != 1 {
			b.Fatal(fs)
		}
	}
}

// TestCheckPolicy: a policy whose signature key is not a public key is
// refused when loaded; a real key passes.
func TestCheckPolicy(t *testing.T) {
	good := strings.ReplaceAll(string(cosigntest.PublicKeyPEM(t)), "\n", "\\n")
	for _, c := range []struct {
		key, want string
	}{
		{good, ""},
		{"not a key", `spec.signatures rule "ci": spec.signatures.rules[0].keys[0]: no PEM public key found`},
	} {
		p := mustPolicy(t, "  signatures:\n    rules:\n    - {name: ci, images: [\"r.io/**\"], keys: [{publicKey: \""+c.key+"\"}]}\n")
		err := CheckPolicy(p)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("key %.20q: %v, want %q", c.key, err, c.want)
		}
	}
}

// TestScanQueueBounded: with every slot busy, at most maxQueued scans per
// slot wait; the next new digest fails at once (onError decides) instead
// of waiting minutes.
func TestScanQueueBounded(t *testing.T) {
	pol := mustPolicy(t, "  vulnerabilities: {}\n")
	sc := &fakeScanner{facts: critical, release: make(chan struct{})}
	defer close(sc.release)
	g := New(Options{Scanner: sc, Budget: 20 * time.Millisecond, MaxScans: 1})
	img := func(i int) []policy.ImageUse {
		return []policy.ImageUse{{Image: fmt.Sprintf("registry.example/app@sha256:%064d", i)}}
	}
	for i := range 1 + maxQueued { // one running, the rest queued
		if got := g.Review(context.Background(), pol, "default", img(i)); len(got) != 1 || !strings.Contains(got[0].Message, "not finished within") {
			t.Fatalf("image %d: %+v", i, got)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); g.queued.Load() < maxQueued; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d scans queued, want %d", g.queued.Load(), maxQueued)
		}
	}
	got := g.Review(context.Background(), pol, "default", img(1000))
	want := fmt.Sprintf("vulnerability scan failed: %d scans already wait for one of 1 slots; retry later", maxQueued)
	if len(got) != 1 || !strings.HasSuffix(got[0].Message, want) || got[0].Mode != policy.Enforce {
		t.Fatalf("over the queue: %+v, want a denial ending %q", got, want)
	}
}
