package cli

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/outcome"
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

Exit codes: 0 verified, 1 not verified, 2 bad usage or an image or registry
that cannot be read.`,
		Example: `  tollgate verify --key cosign.pub registry.example.com/app:1.4
  tollgate verify --key ci.pub --key release.pub --all-keys -f json registry.example.com/app@sha256:…
  tollgate verify --key cosign.pub --annotation ref=main registry.example.com/app:1.4
  tollgate verify --key cosign.pub --attestation cyclonedx registry.example.com/app:1.4
  tollgate verify --key cosign.pub --input ./app-layout`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
	return cmd
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
