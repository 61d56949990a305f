// Package gate decides the policy rules that need the image itself — its
// vulnerabilities, secrets and hygiene (a scan) and its cosign signatures
// — for the admission server and the CI commands alike. Each image is
// resolved to its digest once (a pinned reference is used as it is), its
// scan and signature checks are cached by digest (scancache: in process,
// or shared by every replica through Redis), and a decision waits for work
// not yet in the cache only as long as its budget: past it the rule's
// onError decides and the work goes on in the background, so that the
// retry is decided from the cache.
package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/internal/buildinfo"
	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/scancache"
)

// Defaults of Options.
const (
	DefaultBudget      = 2 * time.Second
	DefaultTTL         = time.Hour
	DefaultScanTimeout = 5 * time.Minute
	DefaultMaxScans    = 2
)

// Resolver resolves a tag to the digest the registry serves for it.
type Resolver interface {
	Digest(ctx context.Context, image string) (string, error)
}

// Scanners are the scanners a scan runs.
type Scanners struct {
	Vulnerabilities, Secrets, Misconfig bool
}

func (s Scanners) key() string {
	var parts []string
	for _, p := range []struct {
		on   bool
		name string
	}{{s.Vulnerabilities, "vuln"}, {s.Secrets, "secret"}, {s.Misconfig, "misconfig"}} {
		if p.on {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, ",")
}

// Scanner scans an image.
type Scanner interface {
	// DataVersion identifies the advisory data a vulnerability scan reads
	// (the DB's build ID): a result is reused only for the same version.
	DataVersion() (string, error)
	// Scan scans ref (pinned by digest) with the scanners asked.
	Scan(ctx context.Context, ref string, s Scanners) (*policy.ScanFacts, error)
}

// Verifier checks a signature requirement of an image.
type Verifier interface {
	Verify(ctx context.Context, ref string, req policy.SignatureRequirement) (policy.SignatureOutcome, error)
}

// Options configure a Gate.
type Options struct {
	// Resolver resolves tags; required when images are not pinned.
	Resolver Resolver
	// Cache holds scan and signature results (nil: an in-process cache).
	Cache scancache.Cache
	// Scanner runs scans (nil: a scan rule's images are decided by onError
	// with "no scanner configured").
	Scanner Scanner
	// Verifier checks signatures (nil: likewise).
	Verifier Verifier
	// Budget is how long a decision waits for work not in the cache
	// (DefaultBudget when 0); a negative budget waits as long as the
	// caller's context allows (the CI commands).
	Budget time.Duration
	// TTL is how long results are reused (DefaultTTL when 0).
	TTL time.Duration
	// ScanTimeout bounds one scan or verification, which may outlive the
	// request that started it (DefaultScanTimeout when 0).
	ScanTimeout time.Duration
	// MaxScans bounds the scans running at once (DefaultMaxScans when 0):
	// a burst of new images queues rather than holding a scan's memory
	// each. Queued scans count against ScanTimeout.
	MaxScans int
	// Metrics counts scans and verifications (nil: not counted).
	Metrics *Metrics
	// Logger receives background failures (nil: discarded).
	Logger *slog.Logger
	// Now is the clock of ignore-entry expiry (time.Now when nil).
	Now func() time.Time
}

// Gate decides scan and signature rules. It is safe for concurrent use.
type Gate struct {
	o      Options
	slots  chan struct{} // one per running scan
	queued atomic.Int64  // scans waiting for a slot

	// decoded keeps the decoded form of cached results, so that a cached
	// decision does not decode the same JSON again: an entry holds for
	// the exact bytes the cache returned (the caches hand out the stored
	// slice), so a value replaced in the cache is decoded afresh.
	mu      sync.Mutex
	decoded map[string]decodedFacts
}

type decodedFacts struct {
	data  *byte
	n     int
	facts *policy.ScanFacts
}

// maxQueued bounds the scans waiting for a slot, per slot.
const maxQueued = 32

// maxDecoded bounds Gate.decoded; past it the map starts again.
const maxDecoded = 4096

// New returns a Gate.
func New(o Options) *Gate {
	if o.Cache == nil {
		o.Cache = scancache.NewMemory(0)
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.ScanTimeout <= 0 {
		o.ScanTimeout = DefaultScanTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxScans <= 0 {
		o.MaxScans = DefaultMaxScans
	}
	return &Gate{o: o, slots: make(chan struct{}, o.MaxScans), decoded: map[string]decodedFacts{}}
}

// Review decides the scan and signature rules of pol on the images of
// uses, all within one budget, and returns their findings (messages
// prefixed with the image's place when known). Images no such rule
// applies to cost a parse: no budget is started and no registry is asked
// for them.
func (g *Gate) Review(ctx context.Context, pol *policy.Policy, namespace string, uses []policy.ImageUse) []policy.Finding {
	var todo []work
	seen := map[string]bool{}
	for _, u := range uses {
		if seen[u.Image] {
			continue // the same image twice in a pod is decided once, at its first place
		}
		seen[u.Image] = true
		im, err := policy.ParseImage(u.Image)
		if err != nil {
			continue // an unparsable reference is the imageReference rule's
		}
		scans, sigs := pol.ImageRequirements(namespace, im)
		if len(scans)+len(sigs) > 0 {
			todo = append(todo, work{use: u, im: im, scans: scans, sigs: sigs})
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if g.o.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, g.o.Budget, errBudget)
		defer cancel()
	}
	if len(todo) == 1 {
		// One image (most pods): no goroutine to start and wait for.
		return g.image(ctx, namespace, todo[0])
	}
	results := make([][]policy.Finding, len(todo))
	var wg sync.WaitGroup
	for i, w := range todo {
		wg.Go(func() { results[i] = g.image(ctx, namespace, w) })
	}
	wg.Wait()
	var out []policy.Finding
	for _, fs := range results {
		out = append(out, fs...)
	}
	return out
}

// work is one image to decide and what the rules ask of it.
type work struct {
	use   policy.ImageUse
	im    policy.Image
	scans []policy.ScanRequirement
	sigs  []policy.SignatureRequirement
}

// errBudget is the cause of a decision context that ran out of budget.
var errBudget = errors.New("decision budget spent")

// image decides one image; its findings carry its place in the pod.
func (g *Gate) image(ctx context.Context, namespace string, w work) []policy.Finding {
	out := g.decide(ctx, namespace, w)
	if u := w.use; u.What != "" {
		for k := range out {
			out[k].Message = u.What + " (" + u.Field + "): " + out[k].Message
		}
	}
	return out
}

// decide runs the rules of one image.
func (g *Gate) decide(ctx context.Context, namespace string, w work) []policy.Finding {
	img, im, scans, sigs := w.use.Image, w.im, w.scans, w.sigs
	ref, digest, err := g.pin(ctx, img, im)
	now := g.o.Now()
	var out []policy.Finding
	if err != nil {
		err = g.explain(ctx, err, "resolving the tag")
		for _, r := range scans {
			out = append(out, policy.DecideScan(img, "", namespace, r, policy.ScanOutcome{Err: err, Pending: g.pending(ctx)}, now)...)
		}
		for _, r := range sigs {
			if f := policy.DecideSignature(img, "", r, policy.SignatureOutcome{Err: err}); f != nil {
				out = append(out, *f)
			}
		}
		return out
	}
	if len(scans) > 0 {
		var want Scanners
		for _, r := range scans {
			want.Vulnerabilities = want.Vulnerabilities || r.Vulnerabilities
			want.Secrets = want.Secrets || r.Secrets
			want.Misconfig = want.Misconfig || r.Misconfig
		}
		facts, err := g.scan(ctx, ref, digest, want)
		oc := policy.ScanOutcome{Facts: facts}
		if err != nil {
			oc = policy.ScanOutcome{Err: g.explain(ctx, err, "scan"), Pending: g.pending(ctx)}
		}
		for _, r := range scans {
			out = append(out, policy.DecideScan(img, digest, namespace, r, oc, now)...)
		}
	}
	for _, r := range sigs {
		oc, err := g.verify(ctx, ref, digest, r)
		if err != nil {
			oc = policy.SignatureOutcome{Err: g.explain(ctx, err, "signature check")}
		}
		if f := policy.DecideSignature(img, digest, r, oc); f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// pending reports whether ctx ended on the budget (rather than the
// caller going away).
func (g *Gate) pending(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errBudget)
}

// explain words an error for a denial: running out of budget says that
// the work goes on in the background.
func (g *Gate) explain(ctx context.Context, err error, what string) error {
	if g.pending(ctx) {
		switch what {
		case "scan":
			return fmt.Errorf("vulnerability scan not finished within %s (a new digest); it goes on in the background, retry shortly", g.o.Budget)
		case "signature check":
			return fmt.Errorf("signature check not finished within %s; it goes on in the background — retry shortly", g.o.Budget)
		}
		return fmt.Errorf("%s took longer than %s", what, g.o.Budget)
	}
	// In the registry's terms, without request URLs or client wording.
	return image.RegistryError(err)
}

// pin returns the reference to scan (repository@digest) and the digest.
func (g *Gate) pin(ctx context.Context, img string, im policy.Image) (ref, digest string, err error) {
	digest = im.Digest
	if digest == "" {
		if g.o.Resolver == nil {
			return "", "", errors.New("no registry resolver configured")
		}
		if digest, err = g.o.Resolver.Digest(ctx, img); err != nil {
			return "", "", err
		}
	}
	return im.Name() + "@" + digest, digest, nil
}

// scan returns the image's scan facts, from the cache or by scanning.
func (g *Gate) scan(ctx context.Context, ref, digest string, want Scanners) (*policy.ScanFacts, error) {
	if g.o.Scanner == nil {
		return nil, errors.New("the server has no scanner configured")
	}
	version := "none"
	if want.Vulnerabilities {
		v, err := g.o.Scanner.DataVersion()
		if err != nil {
			return nil, err
		}
		version = v
	}
	// The key names the code too: replicas of two tollgate versions
	// sharing a Redis (a rolling upgrade) never take each other's results.
	key := scancache.ScanKey(digest, version+"/"+producer()+"/"+want.key())
	b, err := g.o.Cache.Do(ctx, key, g.o.TTL, func(ctx context.Context) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, g.o.ScanTimeout)
		defer cancel()
		if n := g.queued.Add(1); n > int64(maxQueued*g.o.MaxScans) {
			// Bound what waits, too: pods naming ever new digests must
			// not pile up scans for minutes. Not cached: a retry asks again.
			g.queued.Add(-1)
			g.o.Metrics.scan("failed")
			return nil, fmt.Errorf("%d scans already wait for one of %d slots; retry later", n-1, g.o.MaxScans)
		}
		select {
		case g.slots <- struct{}{}:
			g.queued.Add(-1)
			defer func() { <-g.slots }()
		case <-ctx.Done():
			g.queued.Add(-1)
			g.o.Metrics.scan("failed")
			return nil, fmt.Errorf("no scan slot free within %s (%d scans running)", g.o.ScanTimeout, g.o.MaxScans)
		}
		g.o.Metrics.scan("started")
		facts, err := g.o.Scanner.Scan(ctx, ref, want)
		if err != nil {
			g.o.Metrics.scan("failed")
			g.o.Logger.Warn("scan failed", "image", ref, "error", err)
			return nil, err
		}
		g.o.Metrics.scan("finished")
		return json.Marshal(facts)
	})
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("a cached scan result is empty")
	}
	g.mu.Lock()
	d, ok := g.decoded[key]
	g.mu.Unlock()
	if ok && d.data == &b[0] && d.n == len(b) {
		return d.facts, nil
	}
	var facts policy.ScanFacts
	if err := json.Unmarshal(b, &facts); err != nil {
		return nil, fmt.Errorf("a cached scan result does not decode: %v", err)
	}
	g.mu.Lock()
	if len(g.decoded) >= maxDecoded {
		clear(g.decoded)
	}
	g.decoded[key] = decodedFacts{data: &b[0], n: len(b), facts: &facts}
	g.mu.Unlock()
	return &facts, nil
}

// verify returns a signature requirement's outcome, from the cache or by
// verifying. Registry failures are not cached: the next request retries.
func (g *Gate) verify(ctx context.Context, ref, digest string, req policy.SignatureRequirement) (policy.SignatureOutcome, error) {
	if g.o.Verifier == nil {
		return policy.SignatureOutcome{}, errors.New("the server has no signature verifier configured")
	}
	key := scancache.SignatureKey(digest, []string{req.CacheID(), "producer=" + producer()})
	b, err := g.o.Cache.Do(ctx, key, g.o.TTL, func(ctx context.Context) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, g.o.ScanTimeout)
		defer cancel()
		g.o.Metrics.verification("started")
		oc, err := g.o.Verifier.Verify(ctx, ref, req)
		if err == nil && oc.Err != nil {
			err = oc.Err
		}
		if err != nil {
			g.o.Metrics.verification("failed")
			return nil, err
		}
		g.o.Metrics.verification("finished")
		return json.Marshal(oc.Failures)
	})
	if err != nil {
		return policy.SignatureOutcome{}, err
	}
	var oc policy.SignatureOutcome
	if err := json.Unmarshal(b, &oc.Failures); err != nil {
		return oc, fmt.Errorf("a cached signature result does not decode: %v", err)
	}
	return oc, nil
}

// producer names the tollgate build that computes results: its version
// and, when the binary records it, its VCS revision.
var producer = sync.OnceValue(func() string {
	v := buildinfo.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				v += "+" + s.Value[:min(12, len(s.Value))]
			}
		}
	}
	return v
})
