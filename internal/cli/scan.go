package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/buildinfo"
	"github.com/tollgate-dev/tollgate/internal/output"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan"
)

// scanFlags are the flags the vulnerability scan commands share, named as
// Trivy names them.
type scanFlags struct {
	input         string
	severity      []string
	format        string
	output        string
	template      string
	ignoreUnfixed bool
	ignoreStatus  []string
	exitCode      int
	exitOnEOL     int
	ignoreFile    string
	vex           []string
	pkgTypes      []string
	scanners      []string
	skipDBUpdate  bool
	offline       bool
	cacheDir      string
	noCache       bool
	timeout       time.Duration
	quiet         bool
	platform      string
	mirrors       []string
	insecure      bool
	explain       bool
	listAll       bool
	parallel      int
	branch, tag   string
	commit        string
	checks        checkFlags
	policy        string
	namespace     string
}

// scanCommand describes one of the scan commands.
type scanCommand struct {
	kind    scan.Kind
	use     string
	short   string
	long    string
	example string
}

var scanCommands = []scanCommand{
	{
		kind:  scan.KindImage,
		use:   "image [flags] IMAGE",
		short: "Scan a container image for known vulnerabilities (Trivy-compatible)",
		long: `image scans a container image for known vulnerabilities: from its registry
(no Docker daemon; credentials from the Docker config and credential helpers),
or with -i/--input from a docker save tar, an OCI archive or an OCI layout
directory. An image without a tag is scanned as :latest, and the report says so.`,
		example: `  tollgate image nginx
  tollgate image -i nginx.tar
  tollgate image -s HIGH nginx
  tollgate image -s HIGH,CRITICAL nginx
  tollgate image nginx -f json -o /root/output.json
  tollgate image --registry-mirror docker.io=mirror.example.com:5000 nginx:1.25`,
	},
	{
		kind:    scan.KindFS,
		use:     "fs [flags] PATH",
		short:   "Scan the lock files of a source directory for known vulnerabilities",
		long:    `fs reads the lock files of a source tree (go.mod, package-lock.json, requirements.txt, Cargo.lock…) and reports their known vulnerabilities.`,
		example: `  tollgate fs .`,
	},
	{
		kind:    scan.KindRootfs,
		use:     "rootfs [flags] PATH",
		short:   "Scan an unpacked root filesystem for known vulnerabilities",
		long:    `rootfs reads the installed packages of an unpacked root filesystem (dpkg, apk and rpm databases, Go binaries, site-packages, node_modules, jars) and reports their known vulnerabilities.`,
		example: `  tollgate rootfs /mnt/image-root`,
	},
	{
		kind:  scan.KindRepo,
		use:   "repo [flags] PATH|GIT_URL",
		short: "Scan the lock files of a git repository for known vulnerabilities",
		long: `repo reads the lock files of a git repository at a commit: a local repository
at HEAD, or a remote one cloned one commit deep (--branch, --tag or --commit
choose another revision).`,
		example: `  tollgate repo https://github.com/example/app
  tollgate repo --branch release-1.2 ./app`,
	},
	{
		kind:    scan.KindSBOM,
		use:     "sbom-scan [flags] FILE",
		short:   "Scan an existing CycloneDX or SPDX JSON SBOM for known vulnerabilities",
		long:    `sbom-scan reads the packages of a CycloneDX or SPDX JSON SBOM (as tollgate sbom, Syft or Trivy write them) and reports their known vulnerabilities, as trivy sbom does.`,
		example: `  tollgate sbom-scan app.cdx.json`,
	},
}

func newImageCmd(s *streams) *cobra.Command    { return newScanCmd(s, scanCommands[0]) }
func newFSCmd(s *streams) *cobra.Command       { return newScanCmd(s, scanCommands[1]) }
func newRootfsCmd(s *streams) *cobra.Command   { return newScanCmd(s, scanCommands[2]) }
func newRepoCmd(s *streams) *cobra.Command     { return newScanCmd(s, scanCommands[3]) }
func newSBOMScanCmd(s *streams) *cobra.Command { return newScanCmd(s, scanCommands[4]) }

func newScanCmd(s *streams, sc scanCommand) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:     sc.use,
		Short:   sc.short,
		Long:    sc.long + "\n\nExit codes: 0 when the scan ran (findings or not) unless --exit-code N is given, then N when a finding (vulnerability, secret or misconfiguration) remains after the filters; --exit-on-eol N for an end-of-life OS release; 2 when the target or a flag cannot be read.",
		Example: sc.example,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), s, sc.kind, &f, args)
		},
	}
	fl := cmd.Flags()
	if sc.kind == scan.KindImage {
		fl.StringVarP(&f.input, "input", "i", "", "read the image from a docker save tar, an OCI archive or an OCI layout directory")
		fl.StringArrayVar(&f.mirrors, "registry-mirror", nil, "try MIRROR before the registry HOST, as HOST=MIRROR (docker.io=mirror.example.com); repeatable (default: $TOLLGATE_REGISTRY_MIRROR, comma-separated)")
		fl.StringVar(&f.platform, "platform", "", "platform to pick from a multi-platform image, os/arch[/variant]")
		fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry")
		fl.StringVar(&f.policy, "policy", "", "decide by the spec.vulnerabilities and spec.imageChecks rules of this admission policy (docs/policy.md), as tollgate serve does: exit 1 when it denies the image")
		fl.StringVar(&f.namespace, "namespace", "default", "with --policy: the namespace to decide for (exemptions and namespace-limited ignores depend on it)")
	}
	if sc.kind == scan.KindRepo {
		fl.StringVar(&f.branch, "branch", "", "scan this branch")
		fl.StringVar(&f.tag, "tag", "", "scan this tag")
		fl.StringVar(&f.commit, "commit", "", "scan this commit")
	}
	fl.StringArrayVarP(&f.severity, "severity", "s", nil, "severities to report, comma-separated: UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL (default all)")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.ScanFormatNames(), ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to FILE (replaced only when the scan completes)")
	fl.StringVarP(&f.template, "template", "t", "", "Go template for -f template: the text, or @FILE")
	fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "report only vulnerabilities with a fixed version")
	fl.StringArrayVar(&f.ignoreStatus, "ignore-status", nil, "drop findings of these statuses: fixed, affected, will_not_fix, fix_deferred, end_of_life")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when a finding remains after the filters (default 0: findings do not fail the run)")
	fl.IntVar(&f.exitOnEOL, "exit-on-eol", 0, "exit with this code when the OS release is past its end of support")
	fl.StringVar(&f.ignoreFile, "ignorefile", "", "ignore file to read instead of .trivyignore, .trivyignore.yaml and .tollgateignore")
	fl.StringArrayVar(&f.vex, "vex", nil, "OpenVEX or CycloneDX VEX file; not_affected statements suppress findings (repeatable)")
	fl.StringArrayVar(&f.pkgTypes, "pkg-types", []string{"os,library"}, "package types to report: os, library")
	fl.StringArrayVar(&f.scanners, "scanners", defaultScanners(sc.kind), "scanners to run, comma-separated: vuln, secret, misconfig (images: the hygiene checks on config, history and layers)")
	f.checks.register(fl, sc.kind)
	fl.BoolVar(&f.skipDBUpdate, "skip-db-update", false, "use the advisory DB as it is; never update it")
	fl.BoolVar(&f.offline, "offline-scan", false, "no network access for advisory data (implies --skip-db-update)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "cache directory: layer cache, and the advisory DB in its db/ (default: the user cache directory, e.g. ~/.cache/tollgate; env TOLLGATE_CACHE_DIR)")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the layer cache")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress and no notes on standard error")
	fl.BoolVar(&f.explain, "explain", false, "table: say why each finding matched (the JSON always has it)")
	fl.BoolVar(&f.listAll, "list-all-pkgs", true, "list every package in the JSON report (Trivy's default)")
	fl.IntVar(&f.parallel, "parallel", 0, "layers analysed at once (default: CPUs, at most 4)")
	return cmd
}

// joinSeverities applies the seed's spelling `-s HIGH, CRITICAL nginx`:
// when the last -s value ends in ",", upper-case severities at the start
// of the arguments belong to the list.
func joinSeverities(sev, args []string) ([]string, []string) {
	for len(sev) > 0 && strings.HasSuffix(sev[len(sev)-1], ",") && len(args) > 0 {
		w := strings.TrimSpace(args[0])
		if !slices.Contains(report.Severities, strings.TrimSuffix(w, ",")) {
			break
		}
		sev[len(sev)-1] += w
		args = args[1:]
	}
	return sev, args
}

func runScan(ctx context.Context, s *streams, kind scan.Kind, f *scanFlags, args []string) error {
	f.severity, args = joinSeverities(f.severity, args)
	o, w, ro, err := f.options(s, kind, args)
	if err != nil {
		return err
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	if !f.quiet && showsProgress(s.err) {
		o.Inventory.Progress = &progress{w: s.err}
	}
	dbDir, err := advisory.DefaultDir(f.cacheRoot())
	if err != nil {
		return outcome.Usagef("%v", err)
	}
	pd, err := f.policyDecider(&o)
	if err != nil {
		return err
	}
	var src match.Source
	if o.Scanners.Vuln {
		db, warning, err := advisory.OpenForScan(ctx, advisory.ScanOptions{Dir: dbDir, SkipUpdate: f.skipDBUpdate, Offline: f.offline})
		if err != nil {
			return outcome.Unreadable(err)
		}
		defer db.Close()
		if warning != "" && !f.quiet {
			fmt.Fprintf(s.err, "tollgate: warning: %s\n", warning)
		}
		src = db
	}
	r, err := scan.Run(ctx, src, o)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return outcome.Unreadable(fmt.Errorf("the scan took longer than --timeout %s", f.timeout))
		}
		return err
	}
	if !f.listAll {
		for i := range r.Results {
			r.Results[i].Packages = nil
		}
	}
	if !f.quiet {
		for _, n := range r.Notes {
			fmt.Fprintf(s.err, "tollgate: note: %s\n", output.Escape(n))
		}
	}
	unsure := 0
	for _, nm := range r.NotMatched {
		if nm.Error {
			unsure++
			fmt.Fprintf(s.err, "tollgate: error: %s %s (%s) was not matched: %s\n", output.Escape(nm.PkgName), output.Escape(nm.Version), output.Escape(nm.FilePath), output.Escape(nm.Detail))
		}
	}
	if err := writeReport(s.out, f.output, func(out io.Writer) error { return w(out, r, ro) }); err != nil {
		return err
	}
	if pd != nil && pd.decide(s.err) {
		return fmt.Errorf("policy %s denies %s: %w", pd.pol.Name(), pd.name, outcome.ErrFindings)
	}
	if f.exitOnEOL != 0 && r.Metadata.OS != nil && r.Metadata.OS.EOSL {
		fmt.Fprintf(s.err, "tollgate: %s %s is past its end of support (--exit-on-eol)\n", output.Escape(r.Metadata.OS.Family), output.Escape(r.Metadata.OS.Name))
		return outcome.WithCode(fmt.Errorf("%s %s is past its end of support: %w", r.Metadata.OS.Family, r.Metadata.OS.Name, outcome.ErrFindings), f.exitOnEOL)
	}
	if f.exitCode != 0 {
		n, ns, nm := r.VulnerabilityCount(), r.SecretCount(), r.MisconfigurationCount()
		if n > 0 || unsure > 0 || ns > 0 || nm > 0 {
			return outcome.WithCode(fmt.Errorf("%d vulnerabilities, %d packages that could not be checked, %s: %w", n, unsure, checkSummary(ns, nm), outcome.ErrFindings), f.exitCode)
		}
	}
	return nil
}

func (f *scanFlags) cacheRoot() string {
	if f.cacheDir != "" {
		return f.cacheDir
	}
	return os.Getenv("TOLLGATE_CACHE_DIR")
}

// options checks the flags and builds the scan options, the writer and
// its options.
func (f *scanFlags) options(s *streams, kind scan.Kind, args []string) (scan.Options, report.ScanWriter, report.Options, error) {
	var o scan.Options
	var ro report.Options
	o.Kind = kind
	switch {
	case f.input != "" && len(args) > 0:
		return o, nil, ro, outcome.Usagef("give either --input or an IMAGE, not both (got %q)", strings.Join(args, " "))
	case f.input != "":
		o.Input = f.input
	case len(args) == 1:
		o.Target = args[0]
	case len(args) == 0:
		return o, nil, ro, outcome.Usagef("missing the target to scan (see --help)")
	default:
		return o, nil, ro, outcome.Usagef("one target at a time, got %d: %s", len(args), strings.Join(args, " "))
	}
	w, err := report.LookupScanFormat(f.format)
	if err != nil {
		return o, nil, ro, err
	}
	if f.format == "template" {
		t := f.template
		if name, ok := strings.CutPrefix(t, "@"); ok {
			b, err := os.ReadFile(name)
			if err != nil {
				return o, nil, ro, outcome.Usagef("reading --template %s: %v", name, errors.Unwrap(err))
			}
			t = string(b)
		}
		if t == "" {
			return o, nil, ro, outcome.Usagef("-f template needs --template TEXT or --template @FILE")
		}
		if err := report.CheckTemplate(t); err != nil {
			return o, nil, ro, outcome.Usagef("--template: %v", err)
		}
		ro.Template = t
	} else if f.template != "" {
		return o, nil, ro, outcome.Usagef("--template is for -f template")
	}
	if err := f.checks.apply(&o, kind, f.scanners); err != nil {
		return o, nil, ro, err
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"--exit-code", f.exitCode}, {"--exit-on-eol", f.exitOnEOL}} {
		if c.v < 0 || c.v > 255 {
			return o, nil, ro, outcome.Usagef("%s must be 0–255, got %d", c.name, c.v)
		}
	}
	if f.parallel < 0 {
		return o, nil, ro, outcome.Usagef("--parallel must be at least 1")
	}
	if o.Filter.Severities, err = scan.ParseSeverities(f.severity); err != nil {
		return o, nil, ro, err
	}
	if o.Filter.IgnoreStatuses, err = scan.ParseStatuses(f.ignoreStatus); err != nil {
		return o, nil, ro, err
	}
	if o.Filter.PkgTypes, err = scan.ParsePkgTypes(f.pkgTypes); err != nil {
		return o, nil, ro, err
	}
	o.Filter.IgnoreUnfixed = f.ignoreUnfixed
	if f.ignoreFile != "" {
		o.Filter.Ignore, err = scan.LoadIgnoreFiles([]string{f.ignoreFile}, true)
	} else {
		o.Filter.Ignore, err = scan.LoadIgnoreFiles(scan.DefaultIgnoreFiles, false)
	}
	if err != nil {
		return o, nil, ro, err
	}
	if o.Filter.VEX, err = scan.LoadVEX(f.vex); err != nil {
		return o, nil, ro, err
	}
	mirrors := f.mirrors
	if len(mirrors) == 0 {
		// The mirrors a site configures once (Trivy's registry.mirrors).
		for _, m := range strings.Split(os.Getenv("TOLLGATE_REGISTRY_MIRROR"), ",") {
			if m = strings.TrimSpace(m); m != "" {
				mirrors = append(mirrors, m)
			}
		}
	}
	if o.Mirrors, err = scan.ParseMirrors(mirrors); err != nil {
		return o, nil, ro, err
	}
	o.Repo = scan.RepoOptions{Branch: f.branch, Tag: f.tag, Commit: f.commit}
	o.Inventory.Parallel = f.parallel
	o.Inventory.Image.Keychain = authn.DefaultKeychain
	o.Inventory.Image.InsecureSkipTLSVerify = f.insecure
	if f.platform != "" {
		p, err := v1.ParsePlatform(f.platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return o, nil, ro, outcome.Usagef("bad --platform %q: want os/arch[/variant], e.g. linux/arm64", f.platform)
		}
		o.Inventory.Image.Platform = p
	}
	if !f.noCache {
		if o.Inventory.CacheDir, err = cacheRoot(f.cacheDir); err != nil {
			return o, nil, ro, err
		}
	}
	ro.Explain = f.explain
	ro.ToolVersion = buildinfo.Version()
	ro.Color = f.output == "" && colorOK(s.out)
	return o, w, ro, nil
}

// colorOK reports whether standard output is a terminal that may get
// colour: not with NO_COLOR set (https://no-color.org), not in a pipe.
func colorOK(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && showsProgress(w)
}

// policyDecider is `tollgate image --policy`: the policy's scan rules
// decided on the unfiltered findings, with admission's code.
type policyDecider struct {
	pol       *policy.Policy
	reqs      []policy.ScanRequirement
	name      string
	namespace string
	facts     *policy.ScanFacts
	digest    string
}

// policyDecider loads --policy, turns on the scanners its rules need and
// asks the scan for its unfiltered report; nil without --policy.
func (f *scanFlags) policyDecider(o *scan.Options) (*policyDecider, error) {
	if f.policy == "" {
		return nil, nil
	}
	pol, err := policy.Load(f.policy)
	if err != nil {
		return nil, outcome.Mark(err, outcome.ErrUsage)
	}
	pd := &policyDecider{pol: pol, name: o.Target, namespace: f.namespace}
	if pd.name == "" {
		pd.name = o.Input
	}
	// An image read from a file has no name: every rule's scope holds it.
	pd.reqs = pol.ScanRequirements(f.namespace, o.Target)
	for _, r := range pd.reqs {
		o.Scanners.Vuln = o.Scanners.Vuln || r.Vulnerabilities
		o.Scanners.Secret = o.Scanners.Secret || r.Secrets
		o.Scanners.Misconfig = o.Scanners.Misconfig || r.Misconfig
	}
	o.Unfiltered = func(r *report.Report) {
		pd.facts = gate.Facts(r)
		if len(r.Metadata.RepoDigests) > 0 {
			if _, d, ok := strings.Cut(r.Metadata.RepoDigests[0], "@"); ok {
				pd.digest = d
			}
		}
	}
	return pd, nil
}

// decide prints the policy's findings and reports whether it denies.
func (pd *policyDecider) decide(w io.Writer) bool {
	if len(pd.reqs) == 0 {
		fmt.Fprintf(w, "tollgate: policy %s: no vulnerabilities or imageChecks rule applies to %s in namespace %s\n",
			output.Escape(pd.pol.Name()), output.Escape(pd.name), output.Escape(pd.namespace))
		return false
	}
	var d policy.Decision
	now := time.Now()
	for _, r := range pd.reqs {
		pd.pol.AddImageFindings(&d, nil, policy.DecideScan(pd.name, pd.digest, pd.namespace, r, policy.ScanOutcome{Facts: pd.facts}, now)...)
	}
	return printPolicyFindings(w, pd.pol.Name(), pd.name, d)
}
