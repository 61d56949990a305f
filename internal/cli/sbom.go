package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/output"
	"github.com/tollgate-dev/tollgate/internal/sbom"
)

type sbomFlags struct {
	input    string
	format   string
	output   string
	cacheDir string
	noCache  bool
	insecure bool
	platform string
	parallel int
}

func newSBOMCmd(s *streams) *cobra.Command {
	var f sbomFlags
	cmd := &cobra.Command{
		Use:   "sbom [-i TAR] [TARGET]",
		Short: "Write a CycloneDX or SPDX inventory of an image, directory or repository",
		Long: `sbom lists what an image, root filesystem, source directory or git repository
contains and writes it as CycloneDX 1.5 JSON (default) or SPDX 2.3 JSON.

TARGET is an image reference (pulled from its registry without a Docker
daemon, credentials from the Docker config and credential helpers) or a
source with a scheme:

  docker-archive:PATH   a docker save tar (-i PATH is short for this)
  oci-dir:PATH          an OCI image layout directory
  oci-archive:PATH      a tar of an OCI image layout
  registry:REF          an image in a registry (the default for references)
  rootfs:PATH           an unpacked root filesystem (installed packages)
  dir:PATH              a source tree (lock files)
  git:URL|PATH          a git repository at HEAD (lock files)

A path without a scheme is read as an archive (file), an OCI layout (a
directory holding oci-layout) or a source tree (other directories).

What each layer holds is cached in --cache-dir, so a second scan of an
image, or of another image sharing its layers, only reads the new layers.`,
		Example: `  tollgate sbom alpine:3.19
  tollgate sbom -i app.tar -f spdx-json -o app.spdx.json
  tollgate sbom --insecure --platform linux/arm64 registry.local:5000/app:1.0
  tollgate sbom dir:. -o sbom.cdx.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, target, err := f.options(args)
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			if showsProgress(s.err) {
				o.Progress = &progress{w: s.err}
			}
			inv, err := inventory.Collect(cmd.Context(), target, o)
			if err != nil {
				return outcome.Unreadable(err)
			}
			for _, w := range inv.Warnings {
				fmt.Fprintf(s.err, "tollgate: warning: %s\n", output.Escape(w))
			}
			opts := sbom.Options{Format: sbom.Format(f.format)}
			return writeReport(cmd.OutOrStdout(), f.output, func(out io.Writer) error {
				bw := bufio.NewWriterSize(out, 64<<10)
				if err := sbom.Write(bw, inv, opts); err != nil {
					return err
				}
				return bw.Flush()
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.input, "input", "i", "", "read the image from a docker save tar (docker-archive:TAR)")
	fl.StringVarP(&f.format, "format", "f", string(sbom.CycloneDX), "output format: cyclonedx or spdx-json")
	fl.StringVarP(&f.output, "output", "o", "", "write the SBOM to FILE instead of standard output")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "directory of the per-layer cache (default: the user cache directory, e.g. ~/.cache/tollgate)")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the layer cache")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry")
	fl.StringVar(&f.platform, "platform", "", "platform to pick from a multi-platform image, os/arch[/variant] (default linux and this machine's architecture)")
	fl.IntVar(&f.parallel, "parallel", 0, "layers analysed at once (default: CPUs, at most 4)")
	return cmd
}

// options checks the flags and builds the scan options and target.
func (f *sbomFlags) options(args []string) (inventory.Options, inventory.Target, error) {
	var o inventory.Options
	var t inventory.Target
	switch {
	case f.input != "" && len(args) > 0:
		return o, t, fmt.Errorf("give either --input or a TARGET, not both")
	case f.input != "":
		t = inventory.Target{Kind: inventory.KindDockerArchive, Value: f.input}
	case len(args) == 1:
		var err error
		if t, err = inventory.ParseTarget(args[0]); err != nil {
			return o, t, err
		}
	default:
		return o, t, fmt.Errorf("missing TARGET: an image reference, -i TAR, or a scheme:path (see 'tollgate sbom --help')")
	}
	if err := sbom.CheckFormat(sbom.Format(f.format)); err != nil {
		return o, t, fmt.Errorf("--format: %w", err)
	}
	if f.parallel < 0 {
		return o, t, fmt.Errorf("--parallel must be at least 1")
	}
	o.Parallel = f.parallel
	o.Image.Keychain = authn.DefaultKeychain
	o.Image.InsecureSkipTLSVerify = f.insecure
	if f.platform != "" {
		p, err := v1.ParsePlatform(f.platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return o, t, fmt.Errorf("bad --platform %q: want os/arch[/variant], e.g. linux/arm64", f.platform)
		}
		o.Image.Platform = p
	}
	if !f.noCache {
		o.CacheDir = f.cacheDir
		if o.CacheDir == "" {
			d, err := inventory.DefaultCacheDir()
			if err != nil {
				return o, t, fmt.Errorf("%w; give --cache-dir or --no-cache", err)
			}
			o.CacheDir = d
		}
	}
	return o, t, nil
}

// showsProgress reports whether a progress bar belongs on w: only on a
// terminal, never in a file or pipe.
func showsProgress(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows layer reading as a bar on a terminal.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *progress) Start(total int64) {
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("reading layers"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *progress) Add(n int64) { _ = p.bar.Add64(n) }
func (p *progress) Finish()     { _ = p.bar.Finish() }
