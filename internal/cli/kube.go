package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/inflight"
	"github.com/tollgate-dev/tollgate/internal/kube"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/output"
)

func newKubeCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kube",
		Short: "Score Kubernetes manifests for security (kubesec-compatible)",
		Long: `Score Kubernetes manifests against security practices with kubesec's rule IDs,
points and JSON report, offline: from files (kube scan) or over HTTP (kube http).`,
	}
	cmd.AddCommand(newKubeScanCmd(s), newKubeHTTPCmd(s), newKubeRulesCmd())
	return cmd
}

// ruleFlags are the flags choosing the rules, shared by scan and http.
type ruleFlags struct {
	ruleset string
	rules   []string
}

func (f *ruleFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.ruleset, "ruleset", kube.RulesetDefault,
		`rule set: "default" (kubesec v2.14.2's 26 rules) or "extended" (plus the 4 newer kubesec rules)`)
	cmd.Flags().StringSliceVarP(&f.rules, "rules", "r", nil, "run only these rule IDs (comma-separated; see 'tollgate kube rules')")
}

func (f *ruleFlags) scanner() (*kube.Scanner, error) {
	s, err := kube.NewScanner(kube.Options{Ruleset: f.ruleset, Rules: f.rules})
	if err != nil {
		return nil, outcome.Mark(err, outcome.ErrUsage)
	}
	return s, nil
}

func newKubeScanCmd(s *streams) *cobra.Command {
	var (
		rf       ruleFlags
		format   string
		output   string
		exitCode int
		minScore int
		sp       scanPolicy // --policy: admission's decision (policy.go)
	)
	cmd := &cobra.Command{
		Use:   "scan FILE|DIR|- ...",
		Short: "Score manifests from files, directories or stdin",
		Long: `Score every document of the given YAML or JSON files (directories: every .yaml,
.yml and .json file below them; "-": standard input) and print one report per
document, in kubesec's JSON by default.

A report fails when its score is below --min-score (default 1: a score of 0 or
less fails, as in kubesec). Invalid documents always fail. When any report
fails, or an input holds no document, the command exits with --exit-code
(default 2, as kubesec).`,
		Example: `  tollgate kube scan deployment.yaml
  helm template chart | tollgate kube scan -f table -
  tollgate kube scan --ruleset extended --min-score 5 -f sarif -o kube.sarif manifests/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if exitCode < 0 || exitCode > 255 {
				return outcome.Usagef("--exit-code %d: want 0 to 255", exitCode)
			}
			sc, err := rf.scanner()
			if err != nil {
				return err
			}
			if err := kube.CheckFormat(format); err != nil {
				return err
			}
			if err := sp.load(cmd.ErrOrStderr()); err != nil {
				return err
			}
			closeGate, err := sp.startGate(cmd.Context())
			if err != nil {
				return err
			}
			defer closeGate()
			tuneGC()
			stderr := cmd.ErrOrStderr()
			return writeReport(cmd.OutOrStdout(), output, func(out io.Writer) error {
				rw, err := kube.NewReportWriter(out, format, sc.Rules())
				if err != nil {
					return err
				}
				// Reports are written as they come, so a long stream is
				// never held whole; with --policy each document is judged
				// in the same pass.
				failed, lowest := false, sp.minScore(cmd, minScore)
				inputErrs := sc.ScanManifestsFunc(args, s.in, func(m *kube.Manifest, r *kube.Report) error {
					bad := r.Failed(lowest)
					bad = sp.judge(stderr, sc, m, r) || bad
					r.Judge(bad)
					failed = failed || bad
					return rw.Write(r)
				})
				if err := cmd.Context().Err(); err != nil {
					// Stopped mid-run (--check-images waits on registries):
					// what was decided is incomplete, so the earlier -o
					// report stays.
					return outcome.Mark(err, outcome.ErrInterrupted)
				}
				if err := rw.Close(); err != nil {
					inputErrs = append(inputErrs, outcome.Unreadable(fmt.Errorf("writing the report: %w", err)))
				}
				return scanOutcome(stderr, failed, inputErrs, exitCode)
			})
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", kube.FormatJSON, "output format: "+strings.Join(kube.Formats(), ", "))
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to this file instead of stdout")
	cmd.Flags().IntVar(&exitCode, "exit-code", 2, "exit code (0-255) when a report fails or an input holds no document")
	cmd.Flags().IntVar(&minScore, "min-score", 1, "lowest passing score")
	sp.addFlag(cmd)
	return cmd
}

// scanOutcome prints the input errors and says how the scan ended (see
// inputOutcome); findings exit with exitCode.
func scanOutcome(stderr io.Writer, failed bool, inputErrs []error, exitCode int) error {
	err := inputOutcome(stderr, "", failed, inputErrs)
	if err == outcome.ErrFindings {
		return outcome.WithCode(err, exitCode)
	}
	return err
}

// inputOutcome prints the input errors of a run over manifests (prefix
// before each) and says how it ended: an unreadable input or output, or a
// directory without manifests, is outcome.ErrUnreadable (no -o report is
// kept); a failed document or an input holding no document is
// outcome.ErrFindings; nil otherwise.
func inputOutcome(stderr io.Writer, prefix string, failed bool, inputErrs []error) error {
	unreadable := false
	for _, err := range inputErrs {
		fmt.Fprintf(stderr, "tollgate: %s%s\n", prefix, output.Escape(err.Error()))
		if errors.Is(err, kube.ErrNoDocument) {
			failed = true
		} else {
			unreadable = true
		}
	}
	switch {
	case unreadable:
		return outcome.ErrUnreadable
	case failed:
		return outcome.ErrFindings
	}
	return nil
}

func newKubeHTTPCmd(s *streams) *cobra.Command {
	var (
		rf ruleFlags
		ho kube.HandlerOptions
		ib int64
	)
	cmd := &cobra.Command{
		Use:   "http [ADDR]",
		Short: "Serve POST /scan (kubesec-compatible) over plain HTTP",
		Long: `Serve the scanner over plain HTTP until SIGINT or SIGTERM:

  POST /scan (or /)   body: YAML or JSON manifests; reply: the JSON array of reports
  GET /               usage
  GET /healthz        liveness

ADDR is host:port, :port (every interface) or a bare port (127.0.0.1 only);
default ` + kube.DefaultAddr + `. The first signal lets requests in flight finish
(exit 0), a second one exits at once. Bodies held at once are bounded by
--max-inflight-bytes (past it: 429 with Retry-After).`,
		Example: `  tollgate kube http 8080 &
  curl -sS --data-binary @deployment.yaml http://127.0.0.1:8080/scan`,
		Args:        cobra.MaximumNArgs(1),
		Annotations: map[string]string{annotDrains: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRanges(cmd,
				intRange{flag: "max-body-bytes", lo: 1},
				intRange{flag: "max-inflight-bytes", lo: 1},
				intRange{flag: "max-documents", lo: 1},
			); err != nil {
				return err
			}
			if ib < ho.MaxBodyBytes {
				return outcome.Usagef("--max-inflight-bytes %d is below --max-body-bytes %d: a body that size could never be served", ib, ho.MaxBodyBytes)
			}
			sc, err := rf.scanner()
			if err != nil {
				return err
			}
			addr := kube.ListenAddr("")
			if len(args) == 1 {
				addr = kube.ListenAddr(args[0])
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return outcome.Usagef("listening on %s: %v", addr, err)
			}
			tuneGC()
			fmt.Fprintf(cmd.ErrOrStderr(), "tollgate kube http: listening on http://%s\n", ln.Addr())
			ho.Inflight = inflight.New(ib)
			if err := kube.Serve(cmd.Context(), ln, kube.NewMux(kube.NewHandler(sc, ho))); err != nil {
				return outcome.Mark(fmt.Errorf("serving: %w", err), outcome.ErrUsage)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "tollgate kube http: stopped")
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().Int64Var(&ho.MaxBodyBytes, "max-body-bytes", kube.DefaultMaxBodyBytes, "largest request body accepted (larger: 413)")
	cmd.Flags().Int64Var(&ib, "max-inflight-bytes", kube.DefaultMaxInflightBytes, "request bytes held at once (more: 429 with Retry-After)")
	cmd.Flags().IntVar(&ho.MaxDocuments, "max-documents", kube.DefaultMaxDocuments, "most documents in one request (more: 413)")
	return cmd
}

func newKubeRulesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the scoring rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return kube.WriteRules(cmd.OutOrStdout())
		},
	}
}

// tuneGC adapts the garbage collector to scanning, unless GOGC or
// GOMEMLIMIT say otherwise. A scan makes ~100 KB of short-lived garbage per
// document over a live heap of a few MB, so collecting 4x less often than
// the default halves the CPU per document; the soft memory limit makes the
// collector run sooner when a huge input (a 20 MB document) fills the heap,
// keeping the process well under 200 MB.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}

// gcMemoryLimit is the soft heap limit set by tuneGC.
const gcMemoryLimit = 150 << 20
