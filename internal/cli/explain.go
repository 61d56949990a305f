package cli

import (
	"bufio"
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/output"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/outcome"
)

type explainFlags struct {
	pkg          string
	cacheDir     string
	skipDBUpdate bool
	offline      bool
}

func newExplainCmd(s *streams) *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain ID [--pkg NAME]",
		Short: "Show one advisory as the advisory DB holds it",
		Long: `explain prints one advisory record of the local advisory DB: its aliases and
upstream records, its texts, its ratings (and the one a scan would report),
and each affected package with the ranges a version is compared against.
ID may also be a CVE that only other records name (a DSA, a GHSA): those
records are listed. --pkg keeps the entries of one package.`,
		Example: `  tollgate explain CVE-2023-50001
  tollgate explain DSA-9001-1 --pkg openssl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sf := scanFlags{cacheDir: f.cacheDir}
			dir, err := advisory.DefaultDir(sf.cacheRoot())
			if err != nil {
				return outcome.Usagef("%v", err)
			}
			db, warning, err := advisory.OpenForScan(cmd.Context(), advisory.ScanOptions{Dir: dir, SkipUpdate: f.skipDBUpdate, Offline: f.offline})
			if err != nil {
				return outcome.Unreadable(err)
			}
			defer db.Close()
			if warning != "" {
				fmt.Fprintf(s.err, "tollgate: warning: %s\n", warning)
			}
			bw := bufio.NewWriter(s.out)
			if err := explain(bw, db, strings.TrimSpace(args[0]), f.pkg); err != nil {
				return err
			}
			return bw.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.pkg, "pkg", "", "show only the entries of this package")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "cache directory holding the advisory DB in db/ (default: the user cache directory; env TOLLGATE_CACHE_DIR)")
	fl.BoolVar(&f.skipDBUpdate, "skip-db-update", false, "use the advisory DB as it is; never update it")
	fl.BoolVar(&f.offline, "offline-scan", false, "no network access for advisory data")
	return cmd
}

func explain(w io.Writer, db *advisory.DB, id, pkg string) error {
	a, ok, err := db.Get(id)
	if err != nil {
		return outcome.Unreadable(err)
	}
	if !ok {
		linked, err := db.Linked(id)
		if err != nil {
			return outcome.Unreadable(err)
		}
		if len(linked) == 0 {
			return &ExitError{Code: ExitFindings, Err: fmt.Errorf("the advisory DB has no record %s, and no record names it", output.Escape(id))}
		}
		fmt.Fprintf(w, "%s has no record of its own; it is named by:\n", output.Escape(id))
		for _, l := range linked {
			fmt.Fprintf(w, "  %s\n", output.Escape(l))
		}
		fmt.Fprintf(w, "\n")
		for i, l := range linked {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := explain(w, db, l, pkg); err != nil {
				return err
			}
		}
		return nil
	}
	c := output.Escape
	fmt.Fprintf(w, "%s\n%s\n", c(a.ID), strings.Repeat("=", len(c(a.ID))))
	if a.IsWithdrawn() {
		fmt.Fprintf(w, "Withdrawn:  %s (scans ignore it)\n", a.Withdrawn.Format(time.DateOnly))
	}
	list := func(label string, ids []string) {
		if len(ids) > 0 {
			fmt.Fprintf(w, "%-11s %s\n", label+":", c(strings.Join(ids, ", ")))
		}
	}
	list("Aliases", a.Aliases)
	list("Upstream", a.Upstream)
	list("Related", a.Related)
	if !a.Published.IsZero() {
		fmt.Fprintf(w, "Published:  %s\n", a.Published.Format(time.DateOnly))
	}
	fmt.Fprintf(w, "Modified:   %s\n", a.Modified.Format(time.DateOnly))
	if a.Summary != "" {
		fmt.Fprintf(w, "Summary:    %s\n", c(a.Summary))
	}
	if a.Details != "" {
		fmt.Fprintf(w, "\n%s\n", output.Escape(strings.TrimSpace(a.Details)))
	}
	shown := 0
	for _, af := range a.Affected {
		if pkg != "" && advisory.NormalizeName(af.Ecosystem, af.Name) != advisory.NormalizeName(af.Ecosystem, pkg) {
			continue
		}
		shown++
		fmt.Fprintf(w, "\nAffected: %s %s\n", c(af.Ecosystem), c(af.Name))
		if af.Status != "" {
			fmt.Fprintf(w, "  status: %s\n", af.Status)
		}
		for _, r := range af.Ranges {
			var ev []string
			for _, e := range r.Events {
				ev = append(ev, string(e.Kind)+" "+e.Version)
			}
			fmt.Fprintf(w, "  %s range: %s\n", r.Type, c(strings.Join(ev, ", ")))
		}
		if len(af.Versions) > 0 {
			fmt.Fprintf(w, "  versions: %s\n", c(strings.Join(af.Versions, " ")))
		}
		ratings, err := db.ResolveSeverity(a, af.Ecosystem, af.Name)
		if err != nil {
			return outcome.Unreadable(err)
		}
		for _, s := range ratings {
			fmt.Fprintf(w, "  rating: %s %s → %s (%s, from %s)\n", s.Type, c(s.Value), s.Level, s.Source, c(s.Record))
		}
		if best, ok := advisory.Preferred(ratings); ok {
			fmt.Fprintf(w, "  severity a scan reports: %s (%s)\n", best.Level, best.Source)
		} else {
			fmt.Fprintf(w, "  severity a scan reports: UNKNOWN (no rating)\n")
		}
	}
	if pkg != "" && shown == 0 {
		fmt.Fprintf(w, "\n%s names no package %s\n", c(a.ID), c(pkg))
	}
	if len(a.References) > 0 {
		fmt.Fprintf(w, "\nReferences:\n")
		for _, r := range a.References {
			fmt.Fprintf(w, "  %s\n", c(r.URL))
		}
	}
	return nil
}
