package cli

import (
	"errors"
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/output"
	"io"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/dockerfile/fix"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/outfile"
)

// fixOptions are the flags of dockerfile fix.
type fixOptions struct {
	diff, write bool
	rules       []string
	base        string
}

func newDockerfileFixCmd(s *streams) *cobra.Command {
	var o fixOptions
	cmd := &cobra.Command{
		Use:   "fix [flags] DOCKERFILE|-",
		Short: "Rewrite a Dockerfile into the optimized one the rules ask for",
		Long: `Rewrite a Dockerfile ("-" reads standard input) so that the fixable rules
(see "tollgate dockerfile rules", column FIX) no longer fire: consecutive RUNs
merged with each one's failure semantics kept, package-manager caches cleaned
in the same RUN, COPY --chown instead of a later chown -R, an unprivileged
USER, exec-form CMD/ENTRYPOINT. Debug-tool removal (TG103) runs only when
asked for with --rules. The base image is only reported, with a suggestion;
--base replaces the image the final stage is built on.

Everything no fix touches (comments, directives, pragmas, blank lines,
continuation style) stays as written. The fixed file goes to standard output,
or back into the file with -w (replaced atomically), or as a unified diff with
--diff. What was changed and what was only reported goes to standard error.

Exit status: 0 when the file was fixed or needed nothing, 1 when it does not
parse (nothing is written), 2 for a usage error or a file that cannot be read
or written.`,
		Example: `  tollgate dockerfile fix Dockerfile > Dockerfile.fixed
  tollgate dockerfile fix --diff Dockerfile
  tollgate dockerfile fix -w --rules TG101,DL3009,TG103 Dockerfile
  cat Dockerfile | tollgate dockerfile fix --base python:3.12-slim -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFix(args[0], o, s.in, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.diff, "diff", false, "print a unified diff instead of the fixed file")
	fl.BoolVarP(&o.write, "write", "w", false, "write the fixed file back in place (atomically)")
	fl.StringSliceVar(&o.rules, "rules", nil, "fix only these rules (comma-separated IDs; TG103 only when listed)")
	fl.StringVar(&o.base, "base", "", "build the final image on this base image instead")
	return cmd
}

func runFix(path string, o fixOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.write && o.diff {
		return outcome.Usagef("-w and --diff do not go together")
	}
	if o.write && path == "-" {
		return outcome.Usagef("-w needs a file, not standard input")
	}
	name := path
	var src []byte
	var err error
	if path == "-" {
		name = "<stdin>"
		src, err = io.ReadAll(stdin)
	} else {
		src, err = os.ReadFile(path)
	}
	if err != nil {
		return outcome.Unreadable(fmt.Errorf("reading %s: %w", name, err))
	}
	res, err := fix.Fix(name, src, fix.Options{Rules: o.rules, Base: o.base})
	if err != nil {
		if _, ok := errors.AsType[*dockerfile.ParseError](err); ok {
			return outcome.Invalid(err)
		}
		return outcome.Mark(fmt.Errorf("--rules: %w", err), outcome.ErrUsage)
	}
	for _, a := range res.Applied {
		fmt.Fprintf(stderr, "%s: fixed %s: %s\n", output.Escape(name), a.Rule, output.Escape(a.Message))
	}
	for _, n := range res.Notes {
		if n.Line > 0 {
			fmt.Fprintf(stderr, "%s:%d %s: %s\n", output.Escape(name), n.Line, n.Rule, output.Escape(n.Message))
		} else {
			fmt.Fprintf(stderr, "%s: %s: %s\n", output.Escape(name), n.Rule, output.Escape(n.Message))
		}
	}
	switch {
	case o.diff:
		_, err = stdout.Write(diff.Diff("a/"+strings.TrimPrefix(name, "/"), src, "b/"+strings.TrimPrefix(name, "/"), res.Output))
	case o.write:
		if string(res.Output) == string(src) {
			return nil
		}
		err = writeInPlace(path, res.Output)
	default:
		_, err = stdout.Write(res.Output)
	}
	if err != nil {
		return outcome.Unreadable(err)
	}
	return nil
}

// writeInPlace replaces path with data atomically.
func writeInPlace(path string, data []byte) error {
	f, err := outfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Discard()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}
