package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/kube"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/output"
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
			if err := policy.CheckTestFormat(format); err != nil {
				return err
			}
			pol, err := policy.Resolve(args[0])
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			sc, err := kube.NewScanner(kube.Options{Ruleset: ruleset})
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			opts := policy.TestOptions{Namespace: namespace, Scorer: policy.KubesecScorer{Scanner: sc}}
			var results []policy.TestResult
			inputErrs := kube.ReadPaths(args[1:], s.in, func(m *kube.Manifest) error {
				results = append(results, pol.TestManifest(m, opts))
				return nil
			})
			if err := policy.WriteTestResults(cmd.OutOrStdout(), format, results); err != nil {
				return outcome.Unreadable(fmt.Errorf("writing the results: %w", err))
			}
			denied := slices.ContainsFunc(results, policy.TestResult.Denied)
			return inputOutcome(cmd.ErrOrStderr(), "reading manifest ", denied, inputErrs)
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "namespace of objects that do not name one (exemptions depend on it)")
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: "+strings.Join(policy.TestFormats(), " or "))
	cmd.Flags().StringVar(&ruleset, "ruleset", kube.RulesetDefault, `kubesec rule set for scores: "default" or "extended"`)
	return cmd
}

// scanPolicy is the --policy option of kube scan: with a policy, a
// document fails when admission would deny it (the image and workload
// rules of the policy), so that CI and the cluster decide alike. Without
// the flag, ./.tollgate.yaml may name the policy ("policy: FILE").
type scanPolicy struct {
	file        string
	pol         *policy.Policy
	checkImages bool
	g           gateFlags
	ctx         context.Context
	gate        *gate.Gate
	told        map[policy.RuleID]bool // rules reported as not evaluated
}

func (sp *scanPolicy) addFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&sp.file, "policy", "",
		"admission policy (docs/policy.md): a document fails when the policy would deny it (default: the policy .tollgate.yaml names)")
	cmd.Flags().BoolVar(&sp.checkImages, "check-images", false,
		"with a policy: also decide its vulnerabilities, imageChecks and signatures rules on every image, as tollgate serve does (reads the registries and the advisory DB); without it those rules are listed as not evaluated")
	cmd.Flags().StringVar(&sp.g.cacheDir, "cache-dir", "", "with --check-images: cache directory holding the advisory DB in db/ and the layer cache (default $"+envCacheDir+", else the user cache directory)")
	cmd.Flags().StringVar(&sp.g.registryConfig, "registry-config", "", "with --check-images: registry credentials, a dockerconfigjson file (default: the Docker config of the user)")
}

// startGate builds the gate of --check-images; the returned function
// releases it.
func (sp *scanPolicy) startGate(ctx context.Context) (func(), error) {
	sp.ctx = ctx
	sp.told = map[policy.RuleID]bool{}
	if !sp.checkImages {
		return func() {}, nil
	}
	if sp.pol == nil {
		return nil, outcome.Usagef("--check-images needs a policy (--policy FILE, or policy: in .tollgate.yaml)")
	}
	g, closeGate, err := sp.g.ciGate()
	if err != nil {
		return nil, err
	}
	sp.gate = g
	return closeGate, nil
}

// load loads the policy of --policy, else the one ./.tollgate.yaml names
// (read by the loader dockerfile lint uses too); none when neither names
// one.
func (sp *scanPolicy) load(stderr io.Writer) error {
	file := sp.file
	if file == "" {
		if path := dockerfile.TollgateConfig("."); path != "" {
			cf, err := dockerfile.LoadConfigFile(path)
			if err != nil {
				return outcome.Mark(err, outcome.ErrUsage)
			}
			for _, w := range cf.Warnings {
				fmt.Fprintf(stderr, "tollgate: warning: %s\n", output.Escape(w))
			}
			file = cf.Policy
		}
	}
	if file == "" {
		return nil
	}
	p, err := policy.Resolve(file)
	if err != nil {
		return outcome.Mark(err, outcome.ErrUsage)
	}
	if err := gate.CheckPolicy(p); err != nil {
		return outcome.Usagef("policy %s: %v", file, err)
	}
	sp.pol = p
	return nil
}

// judge decides on one manifest with the policy, reusing the report kube
// scan made of it, prints denials and warnings to stderr, and reports
// whether admission would refuse it.
func (sp *scanPolicy) judge(stderr io.Writer, sc *kube.Scanner, m *kube.Manifest, r *kube.Report) bool {
	if sp.pol == nil {
		return false
	}
	scorer := policy.ReportScorer{Object: m.Object, Report: r, Prefix: m.Path(), Fallback: policy.KubesecScorer{Scanner: sc}}
	opts := policy.TestOptions{Scorer: scorer}
	if sp.gate != nil {
		opts.Images = func(ns string, uses []policy.ImageUse) []policy.Finding {
			return sp.gate.Review(sp.ctx, sp.pol, ns, uses)
		}
	}
	res := sp.pol.TestManifest(m, opts)
	if sp.ctx != nil && sp.ctx.Err() != nil {
		return false // stopped: the run ends interrupted, not with a decision
	}
	obj := output.Escape(fmt.Sprintf("%s %s/%s", res.Place(), res.Kind, res.Name))
	name := output.Escape(sp.pol.Name())
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "tollgate: policy %s: %s: warning: %s\n", name, obj, output.Escape(w))
	}
	for _, d := range res.Denials {
		fmt.Fprintf(stderr, "tollgate: policy %s: %s: denied: %s\n", name, obj, output.Escape(d))
	}
	if res.Error != "" {
		fmt.Fprintf(stderr, "tollgate: policy %s: %s: %s\n", name, obj, output.Escape(res.Error))
	}
	for _, r := range res.NotEvaluated {
		if !sp.told[r] {
			sp.told[r] = true
			fmt.Fprintf(stderr, "tollgate: policy %s: the %s rule was not evaluated (it reads the images; add --check-images)\n", name, r)
		}
	}
	return res.Denied()
}

// minScore is the --min-score kube scan applies: with a policy only when
// given explicitly (the policy's own minimumScore rule decides otherwise).
func (sp *scanPolicy) minScore(cmd *cobra.Command, flag int) int {
	if sp.pol != nil && !cmd.Flags().Changed("min-score") {
		return math.MinInt
	}
	return flag
}
