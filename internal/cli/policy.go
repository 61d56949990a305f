package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/kube"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

func newPolicyCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with admission policies (docs/policy.md)",
	}
	cmd.AddCommand(newPolicyTestCmd(s))
	return cmd
}

func newPolicyTestCmd(s *streams) *cobra.Command {
	var (
		namespace string
		format    string
		ruleset   string
	)
	cmd := &cobra.Command{
		Use:   "test POLICY FILE|DIR|- ...",
		Short: "Evaluate manifests offline exactly as admission would",
		Long: `Evaluate every document of the manifest files (directories: every .yaml, .yml
and .json file below them; "-": standard input) with POLICY
("default": the built-in policy), with the code tollgate serve uses: Pods get
the policy's mutations first (digest pinning, which needs the registry, is
left out), then Pods and the pod templates of Deployments, StatefulSets,
DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs are judged
by the image and workload rules. Other kinds are listed as not checked.

Exit code: 0 when everything would be admitted, 1 when a document would be
denied or does not parse, 2 for a bad policy or an unreadable file.`,
		Example: `  tollgate policy test policy.yaml deploy/*.yaml
  helm template chart | tollgate policy test -n prod -f json policy.yaml -`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pol, err := policy.Resolve(args[0])
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			sc, err := kube.NewScanner(kube.Options{Ruleset: ruleset})
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			inputs, err := policy.ReadInputs(args[1:], s.in)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			results := pol.TestInputs(inputs, policy.TestOptions{Namespace: namespace, Scorer: policy.KubesecScorer{Scanner: sc}})
			if err := policy.WriteTestResults(cmd.OutOrStdout(), format, results); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			for _, r := range results {
				if r.Denied() {
					return &ExitError{Code: ExitFindings}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "namespace of objects that do not name one (exemptions depend on it)")
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	cmd.Flags().StringVar(&ruleset, "ruleset", kube.RulesetDefault, `kubesec rule set for scores: "default" or "extended"`)
	return cmd
}

// scanPolicy is the --policy option of kube scan: with a policy, a
// document fails when admission would deny it (the image and workload
// rules of the policy), so that CI and the cluster decide alike. Without
// the flag, ./.tollgate.yaml may name the policy ("policy: FILE").
type scanPolicy struct {
	file   string
	pol    *policy.Policy
	inputs []policy.Input
}

func (sp *scanPolicy) addFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&sp.file, "policy", "",
		"admission policy (docs/policy.md): a document fails when the policy would deny it (default: the policy .tollgate.yaml names)")
}

// prepare loads the policy and reads the inputs for it. It returns the
// reader kube scan must use for standard input, which it may have consumed.
func (sp *scanPolicy) prepare(args []string, stdin io.Reader) (io.Reader, error) {
	file := sp.file
	if file == "" {
		f, err := policy.FromConfig(".")
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		file = f
	}
	if file == "" {
		return stdin, nil
	}
	p, err := policy.Resolve(file)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	sp.pol = p
	// Unreadable files are left out: kube scan reports them itself.
	inputs, err := policy.ReadInputs(args, stdin)
	sp.inputs = inputs
	if !slices.Contains(args, "-") {
		return stdin, nil
	}
	i := slices.IndexFunc(inputs, func(in policy.Input) bool { return in.Name == kube.StdinName })
	if i < 0 { // standard input could not be read
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return bytes.NewReader(inputs[i].Data), nil
}

// apply judges the inputs with the policy, prints denials and warnings to
// stderr, and returns prev or, when a document is denied, an exit with
// exitCode (whichever code is higher).
func (sp *scanPolicy) apply(stderr io.Writer, sc *kube.Scanner, prev error, exitCode int) error {
	if sp.pol == nil {
		return prev
	}
	denied := false
	opts := policy.TestOptions{Scorer: policy.KubesecScorer{Scanner: sc}}
	for _, r := range sp.pol.TestInputs(sp.inputs, opts) {
		obj := fmt.Sprintf("%s:%d %s/%s", r.File, r.Document, r.Kind, r.Name)
		for _, w := range r.Warnings {
			fmt.Fprintf(stderr, "tollgate: policy %s: %s: warning: %s\n", sp.pol.Name(), obj, w)
		}
		for _, d := range r.Denials {
			fmt.Fprintf(stderr, "tollgate: policy %s: %s: denied: %s\n", sp.pol.Name(), obj, d)
		}
		if r.Error != "" {
			fmt.Fprintf(stderr, "tollgate: policy %s: %s: %s\n", sp.pol.Name(), obj, r.Error)
		}
		denied = denied || r.Denied()
	}
	if !denied {
		return prev
	}
	if ee, ok := errors.AsType[*ExitError](prev); ok && ee.Code > exitCode {
		return prev
	}
	return &ExitError{Code: exitCode}
}

// minScore is the --min-score kube scan applies: with a policy only when
// given explicitly (the policy's own minimumScore rule decides otherwise).
func (sp *scanPolicy) minScore(cmd *cobra.Command, flag int) int {
	if sp.pol != nil && !cmd.Flags().Changed("min-score") {
		return math.MinInt
	}
	return flag
}
