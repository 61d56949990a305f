package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate-dev/tollgate/internal/buildinfo"
	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/dockerfile/format"
	"github.com/tollgate-dev/tollgate/internal/dockerfile/runner"
	"github.com/tollgate-dev/tollgate/internal/outcome"
)

func newDockerfileCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dockerfile",
		Short: "Check Dockerfiles (hadolint-compatible rules, pragmas and config)",
		Long: `Check Dockerfiles for size and security practices: hadolint's DL rules with the
same IDs, severities, pragmas and .hadolint.yaml configuration, plus tollgate's
own TG rules for the final image (fewer layers, caches cleaned, no debug tools,
minimal base, non-root user, COPY --chown).`,
	}
	cmd.AddCommand(newDockerfileLintCmd(s), newDockerfileRulesCmd())
	cmd.AddCommand(newDockerfileFixCmd(s))
	return cmd
}

// lintFlags are the command-line flags of dockerfile lint, named as
// hadolint's.
type lintFlags struct {
	config, format, output, threshold, filePath string
	noColor, noFail, strictLabels, noPragma     bool
	verbose                                     bool
	ignore, trusted, labels                     []string
	errors, warnings, infos, styles             []string
}

func (f *lintFlags) settings(cmd *cobra.Command) (dockerfile.Settings, error) {
	st := dockerfile.Settings{
		FailureThreshold:  f.threshold,
		Format:            f.format,
		Ignored:           f.ignore,
		TrustedRegistries: f.trusted,
		Override:          dockerfile.Override{Error: f.errors, Warning: f.warnings, Info: f.infos, Style: f.styles},
	}
	boolFlag := func(name string, v bool) *bool {
		if !cmd.Flags().Changed(name) {
			return nil
		}
		return &v
	}
	st.NoColor = boolFlag("no-color", f.noColor)
	st.NoFail = boolFlag("no-fail", f.noFail)
	st.StrictLabels = boolFlag("strict-labels", f.strictLabels)
	st.DisableIgnorePragma = boolFlag("disable-ignore-pragma", f.noPragma)
	st.Verbose = boolFlag("verbose", f.verbose)
	labels, err := dockerfile.RequiredLabels(f.labels)
	if err != nil {
		return st, fmt.Errorf("--require-label: %w", err)
	}
	st.LabelSchema = labels
	return st, nil
}

func newDockerfileLintCmd(s *streams) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint [flags] DOCKERFILE...|-",
		Short: "Lint Dockerfiles",
		Long: `Lint Dockerfiles ("-" reads standard input) and report findings as
"file:line rule severity: message", or in another format with -f.

Configuration comes from the environment (HADOLINT_* or TOLLGATE_* variables),
then a config file (--config, else the first of ./.tollgate.yaml,
./.hadolint.yaml, $XDG_CONFIG_HOME/{tollgate,hadolint}.yaml,
~/.hadolint/{hadolint,config}.yaml, ~/.{tollgate,hadolint}.yaml; .yml too), then
these flags. Inline pragmas: "# hadolint ignore=DL3008,DL3015" (or "# tollgate
ignore=...") on the line above an instruction, "# hadolint global ignore=...",
"# hadolint stage ignore=..." before a FROM, "# hadolint shell=pwsh".

Exit status: 0 when nothing is at or above the failure threshold, 1 when a
finding is or a Dockerfile does not parse, 2 for a usage error or a Dockerfile
that cannot be read.`,
		Example: `  tollgate dockerfile lint Dockerfile
  tollgate dockerfile lint --ignore DL3008 -t warning build/*.Dockerfile
  tollgate dockerfile lint -f sarif -o dockerfile.sarif Dockerfile
  cat Dockerfile | tollgate dockerfile lint --file-path-in-report Dockerfile -`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.settings(cmd)
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			dir, _ := os.Getwd()
			return writeReport(cmd.OutOrStdout(), f.output, func(out io.Writer) error {
				return runner.Lint(cmd.Context(), runner.Options{
					Files: args, ConfigFile: f.config, Flags: st, FilePath: f.filePath,
					Version: buildinfo.Version(), Dir: dir, Getenv: os.Getenv,
					Stdin: s.in, Stdout: out, Stderr: cmd.ErrOrStderr(), Terminal: f.output == "" && isTerminal(out),
				})
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "config file (default: looked for as hadolint does)")
	fl.StringVarP(&f.format, "format", "f", "", "output format: "+strings.Join(format.Names(), ", ")+" (default tty)")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.StringVarP(&f.threshold, "failure-threshold", "t", "", "lowest severity that fails: error, warning, info, style or ignore (default info)")
	fl.BoolVar(&f.noColor, "no-color", false, "never colour the output")
	fl.BoolVar(&f.noFail, "no-fail", false, "exit 0 even when there are findings")
	fl.StringSliceVar(&f.ignore, "ignore", nil, "rule to ignore (repeatable)")
	fl.StringSliceVar(&f.trusted, "trusted-registry", nil, "registry images may come from; enables DL3026 (repeatable)")
	fl.StringSliceVar(&f.labels, "require-label", nil, "required label as name:type (text, url, semver, hash, rfc3339, spdx, email) (repeatable)")
	fl.BoolVar(&f.strictLabels, "strict-labels", false, "report labels that the label schema does not list")
	fl.StringSliceVar(&f.errors, "error", nil, "report this rule as an error (repeatable)")
	fl.StringSliceVar(&f.warnings, "warning", nil, "report this rule as a warning (repeatable)")
	fl.StringSliceVar(&f.infos, "info", nil, "report this rule as info (repeatable)")
	fl.StringSliceVar(&f.styles, "style", nil, "report this rule as style (repeatable)")
	fl.StringVar(&f.filePath, "file-path-in-report", "", "file name to show in the report instead of the real one")
	fl.BoolVar(&f.noPragma, "disable-ignore-pragma", false, "ignore the ignore pragmas in Dockerfiles")
	fl.BoolVarP(&f.verbose, "verbose", "V", false, "say which config file is used")
	return cmd
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newDockerfileRulesCmd() *cobra.Command {
	var outFormat string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the Dockerfile rules with their IDs and default severities",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dockerfile.WriteRules(cmd.OutOrStdout(), outFormat)
		},
	}
	cmd.Flags().StringVarP(&outFormat, "format", "f", "table", strings.Join(dockerfile.RuleFormats(), ", "))
	return cmd
}
