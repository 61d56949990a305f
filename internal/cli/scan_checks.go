package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/internal/imagecheck"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/scan"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// checkFlags are the flags of the secret and misconfig scanners.
type checkFlags struct {
	imageConfigScanners []string
	secretConfig        string
	secretMaxSize       string
	minWaste            string
	minCache            string
	skipChecks          []string
}

// defaultScanners are Trivy's defaults; an SBOM has only packages.
func defaultScanners(kind scan.Kind) []string {
	if kind == scan.KindSBOM {
		return []string{scan.ScannerVuln}
	}
	return []string{scan.ScannerVuln + "," + scan.ScannerSecret}
}

func (c *checkFlags) register(fl *pflag.FlagSet, kind scan.Kind) {
	if kind == scan.KindSBOM {
		return
	}
	fl.StringVar(&c.secretConfig, "secret-config", "", "secret rules and allow rules to add (Trivy's trivy-secret.yaml shape; default: tollgate-secret.yaml or trivy-secret.yaml in the working directory)")
	fl.StringVar(&c.secretMaxSize, "secret-max-size", "10MiB", "files larger than this are not scanned for secrets (counted as skipped)")
	if kind != scan.KindImage {
		return
	}
	fl.StringArrayVar(&c.imageConfigScanners, "image-config-scanners", nil, "Trivy's scanners of the image config: misconfig, secret (tollgate's image checks always read the config; the same as adding them to --scanners)")
	fl.StringVar(&c.minWaste, "waste-min-size", "1MiB", "misconfig TG203: report a layer's files deleted or replaced later from this many bytes")
	fl.StringVar(&c.minCache, "cache-min-size", "1", "misconfig TG201, DKL-DI-0004, DKL-DI-0005: report package-manager caches from this many bytes")
	fl.StringArrayVar(&c.skipChecks, "skip-checks", nil, "misconfig check IDs not to run, comma-separated (see docs/image-checks.md)")
}

// apply sets the scanners and their options on o.
func (c *checkFlags) apply(o *scan.Options, kind scan.Kind, scanners []string) error {
	sc, err := scan.ParseScanners(append(scanners, c.imageConfigScanners...))
	if err != nil {
		return err
	}
	o.Scanners = sc
	if !sc.Secret && !sc.Misconfig {
		return nil
	}
	cfgPath := c.secretConfig
	if cfgPath == "" {
		wd, err := os.Getwd()
		if err != nil {
			return outcome.Usagef("finding the working directory: %v", err)
		}
		cfgPath = secret.FindConfig(wd)
	}
	so := secret.Options{}
	if cfgPath != "" {
		if so.Config, err = secret.LoadConfig(cfgPath); err != nil {
			return outcome.Usagef("--secret-config: %v", err)
		}
	}
	if so.MaxFileSize, err = parseSize("--secret-max-size", c.secretMaxSize); err != nil {
		return err
	}
	if o.Checks.Secrets, err = secret.New(so); err != nil {
		return outcome.Usagef("--secret-config %s: %v", cfgPath, err)
	}
	if kind != scan.KindImage {
		return nil
	}
	co := &o.Checks.Image
	if co.MinWasteBytes, err = parseSize("--waste-min-size", c.minWaste); err != nil {
		return err
	}
	if co.MinCacheBytes, err = parseSize("--cache-min-size", c.minCache); err != nil {
		return err
	}
	known := map[string]bool{}
	for _, r := range imagecheck.Rules() {
		known[r.ID] = true
	}
	for _, v := range c.skipChecks {
		for _, id := range strings.Split(v, ",") {
			id = strings.ToUpper(strings.TrimSpace(id))
			if id == "" {
				continue
			}
			if !known[id] {
				return outcome.Usagef("--skip-checks %s: no such check (see docs/image-checks.md)", id)
			}
			co.Skip = append(co.Skip, id)
		}
	}
	return nil
}

// parseSize reads a size in bytes, with an optional KiB, MiB or GiB (or
// KB, MB, GB: the same powers of two) suffix.
func parseSize(flag, s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, outcome.Usagef("%s %q: want a size in bytes, e.g. 1048576 or 1MiB", flag, s)
	}
	return n * mult, nil
}

// checkSummary is the exit-code message's count of the check findings.
func checkSummary(secrets, misconf int) string {
	return fmt.Sprintf("%d secrets, %d misconfigurations", secrets, misconf)
}
