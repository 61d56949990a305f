package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/output"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/scancache"
	"github.com/tollgate-dev/tollgate/internal/webhook"
)

// gateFlags configure the image gate of tollgate serve (vulnerability,
// image-check and signature rules).
type gateFlags struct {
	cacheDir       string
	budget, ttl    time.Duration
	registryConfig string
	cache          string
	cachePassword  string
	cacheCA        string
	maxScans       int
}

func (g *gateFlags) register(f *pflag.FlagSet) {
	f.StringVar(&g.cacheDir, "cache-dir", "", "cache directory: the advisory DB in its db/ (filled by tollgate db update --cache-dir) and the layer cache (default $"+envCacheDir+", else the user cache directory)")
	f.DurationVar(&g.budget, "scan-budget", gate.DefaultBudget, "how long a decision waits for a scan or signature check not in the cache (at most 25s, below the webhook timeout); past it the rule's onError decides and the work goes on in the background")
	f.DurationVar(&g.ttl, "scan-ttl", gate.DefaultTTL, "how long a scan or signature result is reused for a digest")
	f.StringVar(&g.registryConfig, "registry-config", "", "registry credentials: a dockerconfigjson file (the .dockerconfigjson of an image pull Secret); default the Docker config of the user")
	f.StringVar(&g.cache, "cache", "", "share scan and signature results with the other replicas: redis://[:PASSWORD@]HOST:PORT/DB or rediss://… (default: in process)")
	f.StringVar(&g.cachePassword, "cache-password-file", "", "file holding the Redis password (read again for each new connection)")
	f.StringVar(&g.cacheCA, "cache-ca-file", "", "CA (PEM) to verify a rediss:// server with")
	f.IntVar(&g.maxScans, "max-scans", gate.DefaultMaxScans, "image scans run at once (more wait their turn; each holds up to about 50 MB)")
}

// apply builds the resolver, the shared cache, the scanner and the gate
// into o; the returned function releases them.
func (g *gateFlags) apply(ctx context.Context, o *webhook.Options, log *slog.Logger) (func(), error) {
	if g.budget > 25*time.Second {
		return nil, outcome.Usagef("--scan-budget %s: at most 25s (the apiserver waits at most 30 s for a webhook)", g.budget)
	}
	if (g.cachePassword != "" || g.cacheCA != "") && g.cache == "" {
		return nil, outcome.Usagef("--cache-password-file and --cache-ca-file need --cache redis://…")
	}
	reg, root, dbDir, err := g.sources()
	if err != nil {
		return nil, err
	}
	var cache scancache.Cache = scancache.NewMemory(0)
	if g.cache != "" {
		r, err := scancache.NewRedis(ctx, scancache.RedisOptions{URL: g.cache, PasswordFile: g.cachePassword, CAFile: g.cacheCA, Logger: log})
		if err != nil {
			return nil, outcome.Usagef("--cache: %v", err)
		}
		cache = r
	}
	resolver := &webhook.RegistryResolver{Registry: reg}
	scanner := &gate.ImageScanner{DBDir: dbDir, Inventory: inventory.Options{CacheDir: root, Image: reg}}
	if _, err := scanner.DataVersion(); err != nil {
		log.Info("no advisory DB yet: a vulnerabilities rule would follow its onError until there is one", "error", err)
	}
	m := gate.NewMetrics()
	o.Resolver = resolver
	o.Gate = gate.New(gate.Options{
		Resolver: resolver, Cache: cache, Scanner: scanner, Verifier: gate.SignatureVerifier{Registry: reg},
		Budget: g.budget, TTL: g.ttl, MaxScans: g.maxScans, Metrics: m, Logger: log,
	})
	o.Collectors = append(append([]prometheus.Collector{}, m.Collectors()...), scancache.NewCollector(cache))
	return func() {
		scanner.Close()
		cache.Close()
	}, nil
}

// sources are the registry options (credentials of --registry-config),
// the cache root and the advisory DB directory.
func (g *gateFlags) sources() (reg image.Options, root, dbDir string, err error) {
	var keychain authn.Keychain = authn.DefaultKeychain
	if g.registryConfig != "" {
		k, err := image.NewFileKeychain(g.registryConfig)
		if err != nil {
			return reg, "", "", outcome.Usagef("--registry-config: %v", err)
		}
		keychain = k
	}
	reg = image.Options{Keychain: keychain}
	if root, err = cacheRoot(g.cacheDir); err != nil {
		return reg, "", "", err
	}
	dbDir, err = advisory.DefaultDir(root)
	if err != nil {
		return reg, "", "", outcome.Usagef("%v", err)
	}
	return reg, root, dbDir, nil
}

// ciGate is the gate of the CI commands (kube scan --check-images): the
// same decisions as tollgate serve's, with no budget (each scan is
// waited for) and an in-process cache.
func (g *gateFlags) ciGate() (*gate.Gate, func(), error) {
	reg, root, dbDir, err := g.sources()
	if err != nil {
		return nil, nil, err
	}
	scanner := &gate.ImageScanner{DBDir: dbDir, Inventory: inventory.Options{CacheDir: root, Image: reg}}
	gt := gate.New(gate.Options{
		Resolver: &webhook.RegistryResolver{Registry: reg}, Scanner: scanner,
		Verifier: gate.SignatureVerifier{Registry: reg}, Budget: -1,
	})
	return gt, func() { scanner.Close() }, nil
}

// printPolicyFindings prints the findings of a policy decision on stderr
// (escaped: messages carry image names and finding titles) and returns
// whether one denies.
func printPolicyFindings(w io.Writer, polName, what string, d policy.Decision) bool {
	name := output.Escape(polName)
	for _, f := range d.Findings {
		switch {
		case f.Overridden:
			fmt.Fprintf(w, "tollgate: policy %s: %s: admitted by break-glass: %s: %s\n", name, what, f.Rule, output.Escape(f.Message))
		case f.Mode == policy.Enforce:
			fmt.Fprintf(w, "tollgate: policy %s: %s: denied: %s: %s\n", name, what, f.Rule, output.Escape(f.Message))
		case f.Mode == policy.Warn:
			fmt.Fprintf(w, "tollgate: policy %s: %s: warning: %s: %s\n", name, what, f.Rule, output.Escape(f.Message))
		case f.Mode == policy.Audit:
			fmt.Fprintf(w, "tollgate: policy %s: %s: audit: %s: %s\n", name, what, f.Rule, output.Escape(f.Message))
		}
	}
	return !d.Allowed()
}

// cacheRoot is the cache directory of --cache-dir (flag), else
// $TOLLGATE_CACHE_DIR, else the user cache directory.
func cacheRoot(flag string) (string, error) {
	if flag == "" {
		flag = os.Getenv(envCacheDir)
	}
	if flag != "" {
		return flag, nil
	}
	d, err := inventory.DefaultCacheDir()
	if err != nil {
		return "", outcome.Usagef("%v; give --cache-dir", err)
	}
	return d, nil
}
