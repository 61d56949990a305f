package cli

import (
	"fmt"
	"io"
	"os"

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
		Use:   "test POLICY FILE|- ...",
		Short: "Evaluate manifests offline exactly as admission would",
		Long: `Evaluate every document of the manifest files ("-": standard input) with POLICY
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
			pol := policy.Default()
			if args[0] != "default" {
				var err error
				if pol, err = policy.Load(args[0]); err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
			}
			sc, err := kube.NewScanner(kube.Options{Ruleset: ruleset})
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			opts := policy.TestOptions{Namespace: namespace, Scorer: policy.KubesecScorer{Scanner: sc}}
			var results []policy.TestResult
			for _, file := range args[1:] {
				data, err := readPolicyInput(s, file)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				results = append(results, pol.Test(file, data, opts)...)
			}
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

// readPolicyInput reads a file, or standard input for "-".
func readPolicyInput(s *streams, file string) ([]byte, error) {
	if file == "-" {
		b, err := io.ReadAll(s.in)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	return b, nil
}
