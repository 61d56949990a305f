package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// Environment variables the db commands read (flags win).
const (
	envCacheDir = "TOLLGATE_CACHE_DIR"
	envDBURL    = "TOLLGATE_DB_URL"
)

// maxShownProblems bounds the data problems printed on stderr (all with
// --verbose); the summary line always gives the count.
const maxShownProblems = 20

type dbFlags struct {
	cacheDir string
	verbose  bool
}

// dir is the DB directory: --cache-dir, $TOLLGATE_CACHE_DIR, else the
// user cache directory.
func (f *dbFlags) dir() (string, error) {
	c := f.cacheDir
	if c == "" {
		c = os.Getenv(envCacheDir)
	}
	d, err := advisory.DefaultDir(c)
	if err != nil {
		return "", outcome.Usagef("%v", err)
	}
	return d, nil
}

// problemPrinter prints data problems on stderr, up to a bound.
type problemPrinter struct {
	w       io.Writer
	all     bool
	n       int
	limited bool
}

func (p *problemPrinter) report(pr advisory.Problem) {
	p.n++
	if p.all || p.n <= maxShownProblems {
		fmt.Fprintf(p.w, "tollgate: bad data kept out: %s\n", pr)
	} else {
		p.limited = true
	}
}

func (p *problemPrinter) summary() string {
	switch {
	case p.n == 0:
		return ""
	case p.limited:
		return fmt.Sprintf("; %d data problems (first %d shown, all with --verbose)", p.n, maxShownProblems)
	}
	return fmt.Sprintf("; %d data problems", p.n)
}

func newDBCmd(s *streams) *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Build, update, inspect and share the local advisory database",
		Long: `db manages the advisory database the vulnerability scans read: one file,
tollgate.db, under the cache directory (--cache-dir, $TOLLGATE_CACHE_DIR, else
the user cache directory), built from OSV records.

  update   download the OSV export per ecosystem (or a mirror, or an OCI
           artifact of a DB pushed with db push) and rebuild the DB
  import   build the DB from local OSV zips, directories and JSON files
  info     show the DB's age, sources, counts and size
  push     store the DB in a registry as an OCI artifact`,
	}
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.cacheDir, "cache-dir", "", "cache directory holding db/tollgate.db (default $"+envCacheDir+", else the user cache directory)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print every data problem, not just the first 20")
	cmd.AddCommand(newDBUpdateCmd(s, &f), newDBImportCmd(s, &f), newDBInfoCmd(s, &f), newDBPushCmd(s, &f))
	return cmd
}

func newDBUpdateCmd(s *streams, f *dbFlags) *cobra.Command {
	var (
		ecosystems []string
		dbURL      string
		repository string
		insecure   bool
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download advisories and rebuild the DB",
		Long: `update downloads <ECOSYSTEM>/all.zip for each ecosystem from the OSV export
(--db-url or $` + envDBURL + ` for a mirror with the same layout), verifies each
download (length, the zip's CRCs, every record parses) and replaces the DB
atomically: a failed or interrupted update leaves the old DB in use.
Requests are conditional, so an unchanged ecosystem is not downloaded again.
With --db-repository the DB is pulled as an OCI artifact pushed by db push.`,
		Example: `  tollgate db update
  tollgate db update --ecosystems Debian,Alpine,Go
  tollgate db update --db-url https://mirror.example.com/osv
  tollgate db update --db-repository registry.example.com/security/tollgate-db:1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := f.dir()
			if err != nil {
				return err
			}
			if dbURL == "" {
				dbURL = os.Getenv(envDBURL)
			}
			if repository != "" && (cmd.Flags().Changed("db-url") || cmd.Flags().Changed("ecosystems")) {
				return outcome.Usagef("--db-repository pulls a built DB; it does not take --db-url or --ecosystems")
			}
			pp := &problemPrinter{w: s.err, all: f.verbose}
			opts := advisory.UpdateOptions{
				Dir:        dir,
				BaseURL:    dbURL,
				Ecosystems: ecosystems,
				Repository: repository,
				Progress:   s.err,
				Terminal:   showsProgress(s.err),
				Report:     pp.report,
				Registry:   advisory.RegistryOptions{Keychain: authn.DefaultKeychain, Insecure: insecure},
			}
			res, err := updateWaiting(cmd.Context(), s.err, opts)
			if err != nil {
				return dbError(err)
			}
			what := fmt.Sprintf("%d downloaded (%s)", len(res.Downloaded), humanBytes(res.Bytes))
			if len(res.Unchanged) > 0 {
				what += fmt.Sprintf(", %d unchanged", len(res.Unchanged))
			}
			if !res.Rebuilt {
				what += ", DB left as it was"
			}
			fmt.Fprintf(s.err, "db update: %s; %d records, %d packages in %s%s\n", what, res.Metadata.Records, res.Metadata.Packages, filepath.Join(dir, advisory.FileName), pp.summary())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&ecosystems, "ecosystems", nil, "ecosystems to download, comma-separated, OSV spelling (default "+strings.Join(advisory.DefaultEcosystems, ",")+")")
	fl.StringVar(&dbURL, "db-url", "", "base URL of the OSV export or a mirror of it (default $"+envDBURL+", else "+advisory.DefaultBaseURL+")")
	fl.StringVar(&repository, "db-repository", "", "pull the DB as an OCI artifact from this reference instead (pushed with db push)")
	fl.BoolVar(&insecure, "insecure", false, "allow plain HTTP and unverified TLS to the --db-repository registry")
	return cmd
}

// updateWaiting runs an update, saying on stderr when it has to wait for
// another update of the same directory.
func updateWaiting(ctx context.Context, stderr io.Writer, opts advisory.UpdateOptions) (advisory.UpdateResult, error) {
	if holder := advisory.LockHolder(opts.Dir); holder != "" {
		fmt.Fprintf(stderr, "tollgate: waiting for another db update or import (%s) of %s\n", holder, opts.Dir)
	}
	return advisory.Update(ctx, opts)
}

// dbError marks a db failure with its outcome kind: an input, download
// or DB that cannot be used is "unreadable" (exit 2), whatever the reason.
func dbError(err error) error {
	if errors.Is(err, context.Canceled) {
		return outcome.Mark(err, outcome.ErrInterrupted)
	}
	return outcome.Unreadable(err)
}

func newDBImportCmd(s *streams, f *dbFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "import PATH...",
		Short: "Build the DB from local OSV zips, directories and JSON files",
		Long: `import builds the DB from local files, for sites without network access: OSV
export zips (<ECOSYSTEM>/all.zip copied from the export), directories (every
.zip and .json under them) and single OSV JSON records. Records are
deduplicated by ID (the last modified wins); files that are not OSV records
are skipped and counted; bad events and ranges are reported and dropped
while the rest of their record is kept. The DB is replaced atomically.`,
		Example: `  tollgate db import Debian-all.zip Alpine-all.zip Go-all.zip
  tollgate db import /media/usb/osv/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := f.dir()
			if err != nil {
				return err
			}
			pp := &problemPrinter{w: s.err, all: f.verbose}
			if holder := advisory.LockHolder(dir); holder != "" {
				fmt.Fprintf(s.err, "tollgate: waiting for another db update or import (%s) of %s\n", holder, dir)
			}
			meta, err := advisory.Import(cmd.Context(), args, advisory.ImportOptions{Dir: dir, Report: pp.report})
			if err != nil {
				return dbError(err)
			}
			skipped := 0
			for _, src := range meta.Sources {
				skipped += src.Skipped
			}
			fmt.Fprintf(s.err, "db import: %d records (%d files skipped: not OSV records), %d packages in %s%s\n", meta.Records, skipped, meta.Packages, filepath.Join(dir, advisory.FileName), pp.summary())
			return nil
		},
	}
}

// dbInfo is what db info shows (its JSON form).
type dbInfo struct {
	Path       string            `json:"path"`
	Size       int64             `json:"size"`
	AgeSeconds int64             `json:"age_seconds"`
	Metadata   advisory.Metadata `json:"metadata"`
}

func newDBInfoCmd(s *streams, f *dbFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the DB's age, sources, counts per ecosystem, schema and size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return outcome.Usagef("unknown format %q: use table or json", format)
			}
			dir, err := f.dir()
			if err != nil {
				return err
			}
			path := filepath.Join(dir, advisory.FileName)
			db, err := advisory.Open(path)
			if err != nil {
				if errors.Is(err, advisory.ErrNoDB) {
					return outcome.Unreadable(fmt.Errorf("%w: build one with `tollgate db update`, or `tollgate db import PATH…` offline", err))
				}
				return dbError(err)
			}
			defer db.Close()
			info := dbInfo{Path: path, Metadata: db.Metadata()}
			if fi, err := os.Stat(path); err == nil {
				info.Size = fi.Size()
			}
			info.AgeSeconds = int64(time.Since(info.Metadata.Built).Seconds())
			if format == "json" {
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			writeDBInfo(s.out, info)
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json")
	return cmd
}

func writeDBInfo(w io.Writer, info dbInfo) {
	m := info.Metadata
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s (%s)\n", info.Path, humanBytes(info.Size))
	fmt.Fprintf(tw, "schema\t%d\n", m.Schema)
	fmt.Fprintf(tw, "built\t%s (%s ago)\n", m.Built.Format(time.RFC3339), (time.Duration(info.AgeSeconds) * time.Second).String())
	fmt.Fprintf(tw, "build id\t%s\n", m.BuildID)
	if m.ContentID != "" {
		fmt.Fprintf(tw, "content id\t%s\n", m.ContentID)
	}
	fmt.Fprintf(tw, "records\t%d (%d withdrawn), %d packages\n", m.Records, m.Withdrawn, m.Packages)
	ecos := make([]string, 0, len(m.Ecosystems))
	for e := range m.Ecosystems {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	for i, e := range ecos {
		label := ""
		if i == 0 {
			label = "ecosystems"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", label, e, m.Ecosystems[e])
	}
	for i, src := range m.Sources {
		label := ""
		if i == 0 {
			label = "sources"
		}
		where := src.Name
		if src.URL != "" {
			where = src.URL
		}
		fmt.Fprintf(tw, "%s\t%s\t%d records, %d skipped, %d problems, read %s\n", label, where, src.Records, src.Skipped, src.Problems, src.Retrieved.Format(time.RFC3339))
	}
	tw.Flush()
}

func newDBPushCmd(s *streams, f *dbFlags) *cobra.Command {
	var insecure bool
	cmd := &cobra.Command{
		Use:   "push REF",
		Short: "Store the DB in a registry as an OCI artifact",
		Long: `push uploads the DB to a registry as an OCI artifact (media types
` + advisory.ConfigMediaType + ` and
` + advisory.LayerMediaType + `), so sites whose only way
out is their registry fetch it with db update --db-repository REF.
Credentials come from the Docker config and credential helpers.`,
		Example: `  tollgate db push registry.example.com/security/tollgate-db:1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := f.dir()
			if err != nil {
				return err
			}
			digest, err := advisory.Push(cmd.Context(), filepath.Join(dir, advisory.FileName), args[0],
				advisory.RegistryOptions{Keychain: authn.DefaultKeychain, Insecure: insecure})
			if err != nil {
				if errors.Is(err, advisory.ErrNoDB) {
					return outcome.Unreadable(fmt.Errorf("%w: build one with `tollgate db update` or `tollgate db import PATH…` first", err))
				}
				return dbError(err)
			}
			fmt.Fprintf(s.out, "%s@%s\n", args[0], digest)
			return nil
		},
	}
	cmd.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry")
	return cmd
}

// humanBytes is n in B, KiB or MiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
