package cli

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/signature"
)

type verifyFlags struct {
	keys        []string
	input       string
	format      string
	attestation string
	annotations []string
	allKeys     bool
	insecure    bool
	trustedRoot string
	requireTlog bool
	policy      string
	namespace   string
}

func newVerifyCmd(s *streams) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify IMAGE --key cosign.pub [--key …]",
		Short: "Verify an image's cosign signatures or attestations against public keys, offline",
		Long: `verify resolves IMAGE to its digest, finds its cosign signatures and checks
them against the public keys given with --key. Nothing but the image's
registry is contacted: no transparency log, no Fulcio, no TUF root.

Both storage schemes are read: the sha256-<hex>.sig tag cosign 2 writes, and
the Sigstore bundle cosign 3 attaches as an OCI referrer (or under the
referrers tag fallback sha256-<hex> on registries without the referrers
API). A signature counts when it verifies with one of the keys, its payload
names the image's digest and it carries every --annotation asked for.

--attestation TYPE checks in-toto attestations (cosign attest) of that
predicate type instead: cyclonedx, spdx, spdxjson, vuln, openvex,
slsaprovenance, slsaprovenance1, custom, or a predicate type URI.

--input DIR reads an OCI layout written by 'cosign save --dir DIR' instead
of a registry.

--policy FILE decides by the spec.signatures rules of a policy file (see
docs/policy.md): the keys, annotations and attestations of every rule whose
images match IMAGE (in --namespace, for exemptions), each rule's mode, and
its onError when the registry cannot be read.

Exit codes: 0 verified, 1 not verified (with --policy: denied by an enforced
rule), 2 bad usage or an image or registry that cannot be read.`,
		Example: `  tollgate verify --key cosign.pub registry.example.com/app:1.4
  tollgate verify --key ci.pub --key release.pub --all-keys -f json registry.example.com/app@sha256:…
  tollgate verify --key cosign.pub --annotation ref=main registry.example.com/app:1.4
  tollgate verify --key cosign.pub --attestation cyclonedx registry.example.com/app:1.4
  tollgate verify --key cosign.pub --input ./app-layout
  tollgate verify --policy policy.yaml --namespace shop registry.example.com/team/app:1.4`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.policy != "" {
				return f.runPolicy(cmd, s, args)
			}
			o, err := f.options(args)
			if err != nil {
				return err
			}
			res, err := signature.Verify(cmd.Context(), o)
			if err != nil {
				return err
			}
			if err := signature.Write(s.out, res, f.format); err != nil {
				return outcome.Unreadable(err)
			}
			if !res.Verified {
				return outcome.Mark(fmt.Errorf("%s is not verified: %s", res.Image, res.Reason), outcome.ErrFindings)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.keys, "key", nil, "PEM public key file (cosign.pub) to trust; repeat for several")
	fl.StringVar(&f.input, "input", "", "read the image and its signatures from an OCI layout written by cosign save")
	fl.StringVarP(&f.format, "format", "f", signature.FormatTable, "output format: table or json")
	fl.StringVar(&f.attestation, "attestation", "", "verify attestations of this type instead of signatures (cyclonedx, spdx, vuln, … or a URI)")
	fl.StringArrayVar(&f.annotations, "annotation", nil, "require this annotation (KEY=VALUE) in the signature's claims; repeatable")
	fl.BoolVar(&f.allKeys, "all-keys", false, "require a valid signature by every --key (default: any one)")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry (loopback registries need no flag)")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "offline Sigstore trusted_root.json, for --require-tlog")
	fl.BoolVar(&f.requireTlog, "require-tlog", false, "count bundles only with a transparency log entry verified against --trusted-root (offline)")
	fl.StringVar(&f.policy, "policy", "", "decide by the spec.signatures rules of this policy file instead of --key and friends")
	fl.StringVar(&f.namespace, "namespace", "", "with --policy: the namespace the image would run in (for exemptions)")
	return cmd
}

// runPolicy verifies IMAGE by the signature rules of a policy file.
func (f *verifyFlags) runPolicy(cmd *cobra.Command, s *streams, args []string) error {
	switch {
	case len(args) != 1:
		return outcome.Usagef("--policy needs IMAGE (a registry reference)")
	case f.input != "" || len(f.keys) > 0 || f.attestation != "" || len(f.annotations) > 0 || f.allKeys || f.trustedRoot != "":
		return outcome.Usagef("--policy takes the keys, annotations and attestations from the policy; drop --key, --input, --attestation, --annotation, --all-keys and --trusted-root")
	case f.format != signature.FormatTable && f.format != signature.FormatJSON:
		return outcome.Usagef("unknown --format %q: use table or json", f.format)
	}
	sp, err := policy.LoadSignatures(f.policy)
	if err != nil {
		return outcome.Usagef("%v", err)
	}
	reg := signature.RegistryOptions{Keychain: authn.DefaultKeychain, InsecureSkipTLSVerify: f.insecure}
	pr, err := signature.VerifyPolicy(cmd.Context(), sp, args[0], f.namespace, reg)
	if err != nil {
		return err
	}
	if err := signature.WritePolicy(s.out, pr, f.format); err != nil {
		return outcome.Unreadable(err)
	}
	if pr.Denied() {
		return outcome.Mark(fmt.Errorf("%s is denied by the policy's signature rules", args[0]), outcome.ErrFindings)
	}
	return nil
}

// options checks the flags and builds the verification options.
func (f *verifyFlags) options(args []string) (signature.Options, error) {
	var o signature.Options
	switch {
	case f.input != "" && len(args) > 0:
		return o, outcome.Usagef("give either IMAGE or --input, not both")
	case f.input != "":
		o.Layout = f.input
	case len(args) == 1:
		o.Image = args[0]
	default:
		return o, outcome.Usagef("missing IMAGE (or --input DIR); see 'tollgate verify --help'")
	}
	if len(f.keys) == 0 {
		return o, outcome.Usagef("no --key given: verify needs the public key(s) to trust")
	}
	for _, p := range f.keys {
		ks, err := signature.LoadKeys(p)
		if err != nil {
			return o, outcome.Usagef("--key %s: %v", p, err)
		}
		o.Keys = append(o.Keys, ks...)
	}
	if f.format != signature.FormatTable && f.format != signature.FormatJSON {
		return o, outcome.Usagef("unknown --format %q: use table or json", f.format)
	}
	if f.attestation != "" {
		pt, err := signature.PredicateType(f.attestation)
		if err != nil {
			return o, outcome.Usagef("--attestation: %v", err)
		}
		if len(f.annotations) > 0 {
			return o, outcome.Usagef("--annotation applies to signatures; cosign attestations carry no annotations")
		}
		o.Attestation = pt
	}
	for _, a := range f.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return o, outcome.Usagef("bad --annotation %q: want KEY=VALUE", a)
		}
		if o.Annotations == nil {
			o.Annotations = map[string]string{}
		}
		o.Annotations[k] = v
	}
	if f.requireTlog && f.trustedRoot == "" {
		return o, outcome.Usagef("--require-tlog needs --trusted-root")
	}
	if f.trustedRoot != "" {
		tr, err := signature.LoadTrustedRoot(f.trustedRoot)
		if err != nil {
			return o, outcome.Usagef("%v", err)
		}
		o.TrustedRoot, o.RequireTlog = tr, f.requireTlog
	}
	o.RequireAll = f.allKeys
	o.Registry.Keychain = authn.DefaultKeychain
	o.Registry.InsecureSkipTLSVerify = f.insecure
	return o, nil
}
