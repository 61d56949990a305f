// Package scan is the pipeline behind `tollgate image|fs|rootfs|repo|
// sbom-scan`: open the target, inventory it (internal/inventory, with its
// per-layer cache), match the packages against the advisory DB
// (internal/match), apply the user's filters (severity, fix status,
// package types, ignore files, VEX), and build the report model
// (internal/report, Trivy's JSON shape).
package scan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// Kind is what a scan reads.
type Kind string

// The kinds of scan targets.
const (
	KindImage  Kind = "image"  // Value: a reference, or Input a tar / OCI layout
	KindFS     Kind = "fs"     // a source directory: lock files
	KindRootfs Kind = "rootfs" // an unpacked root filesystem: installed packages
	KindRepo   Kind = "repo"   // a git repository, local or remote
	KindSBOM   Kind = "sbom"   // a CycloneDX or SPDX JSON SBOM
)

// ScannerVuln is the vulnerability scanner of --scanners (the others are
// in checks.go).
const ScannerVuln = "vuln"

// Options configure a scan.
type Options struct {
	Kind Kind
	// Target is the image reference, path or URL as the user gave it.
	Target string
	// Input is a docker save tar, OCI archive or OCI layout directory to
	// read the image from (image scans).
	Input string
	// Inventory configures reading the target (cache, platform, TLS).
	Inventory inventory.Options
	// Mirrors maps registry hosts to mirrors tried first ("index.docker.io"
	// → "127.0.0.1:5000").
	Mirrors map[string]string
	// Repo selects what to check out of a repository.
	Repo RepoOptions
	// Filter decides which findings the report keeps.
	Filter Filter
	// Scanners are the scanners to run; the zero value runs vuln only.
	// Without vuln no advisory DB is needed (db may be nil).
	Scanners Scanners
	// Checks configure the secret and misconfig scanners.
	Checks Checks
	// Now is the clock (time.Now when zero): report time, ignore-file
	// expiry, end-of-life dates.
	Now time.Time
	// Unfiltered, when set, receives the report before Filter applies:
	// every finding of the scanners that ran. A policy decides on it, so
	// that display filters (-s, ignore files in the working directory)
	// never change what the policy admits.
	Unfiltered func(*report.Report)
}

// RepoOptions select a branch, tag or commit of a repository.
type RepoOptions struct {
	Branch, Tag, Commit string
}

// Run scans the target and returns its report. A target that cannot be
// read is an error marked outcome.ErrUnreadable.
func Run(ctx context.Context, db match.Source, o Options) (*report.Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Scanners == (Scanners{}) {
		o.Scanners.Vuln = true
	}
	if o.Scanners.Misconfig && o.Kind != KindImage {
		return nil, outcome.Usagef("--scanners misconfig: the checks are for images (config, history, layers); tollgate has none for a %s yet", o.Kind)
	}
	if o.Scanners.Secret && o.Kind == KindSBOM {
		return nil, outcome.Usagef("--scanners secret: an SBOM holds no files to scan")
	}
	if (o.Scanners.Secret || o.Scanners.Misconfig) && o.Checks.Secrets == nil {
		s, err := secret.New(secret.Options{})
		if err != nil {
			return nil, err
		}
		o.Checks.Secrets = s
	}
	checks := imageChecks(&o)
	art, err := open(ctx, o)
	if err != nil {
		if ctx.Err() != nil {
			return nil, outcome.Mark(ctx.Err(), outcome.ErrInterrupted)
		}
		if errors.Is(err, outcome.ErrUsage) {
			return nil, err
		}
		return nil, outcome.Unreadable(err)
	}
	res := &match.Result{}
	if o.Scanners.Vuln {
		if res, err = match.Match(db, match.Input{OS: art.inv.OS, Packages: art.inv.Packages}); err != nil {
			return nil, fmt.Errorf("matching advisories: %w", err)
		}
	}
	if art.checks == nil {
		if art.checks, err = checks(); err != nil {
			return nil, outcome.Unreadable(err)
		}
	}
	if o.Unfiltered != nil {
		all := o
		all.Filter = Filter{}
		r0 := build(art, res, all)
		addChecks(r0, art.checks, all)
		o.Unfiltered(r0)
	}
	r := build(art, res, o)
	if err := o.Filter.apply(r, o.Now); err != nil {
		return nil, err
	}
	if !o.Scanners.Vuln {
		dropPackages(r)
	}
	addChecks(r, art.checks, o)
	r.Scanners = o.Scanners.names()
	return r, nil
}
