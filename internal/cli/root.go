// Package cli wires tollgate's commands to cobra. It holds no logic of its
// own: each command turns its flags into an options struct and calls one
// function of a capability package.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// Exit codes shared by every command.
const (
	ExitOK       = 0 // nothing at or above the failure threshold
	ExitFindings = 1 // findings at or above the threshold, or input that does not parse
	ExitUsage    = 2 // bad flags or arguments, unreadable input
)

// ExitError carries a specific exit code out of a command. Commands return
// it when the outcome is not simply "usage error" (which is ExitUsage).
type ExitError struct {
	Code int
	Err  error // may be nil: the command already printed what the user needs
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// streams are the standard streams a command writes to and reads from.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Run executes tollgate with args (without the program name) and returns the
// process exit code. It builds a fresh command tree on every call, so tests
// can run it in-process.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := &streams{in: stdin, out: stdout, err: stderr}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	// The smallest mapping of outcome's sentinels (issue 8 part A maps
	// them all): a code chosen by the user (--exit-code) wins; findings
	// print nothing more, the report says it all.
	if code, ok := outcome.Code(err); ok {
		if !errors.Is(err, outcome.ErrFindings) {
			fmt.Fprintf(stderr, "tollgate: %v\n", err)
		}
		return code
	}
	if errors.Is(err, outcome.ErrFindings) {
		return ExitFindings
	}
	if exitErr, ok := errors.AsType[*ExitError](err); ok {
		if exitErr.Err != nil {
			fmt.Fprintf(stderr, "tollgate: %v\n", exitErr.Err)
		}
		return exitErr.Code
	}
	fmt.Fprintf(stderr, "tollgate: %v\n", err)
	return ExitUsage
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "tollgate",
		Short: "Guard a Kubernetes supply chain from the Dockerfile to the running Pod",
		Long: `tollgate lints and fixes Dockerfiles, inventories and scans images for known
vulnerabilities, scores Kubernetes manifests, and answers the kube-apiserver's
admission requests, all under one policy.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(
		newVersionCmd(s),
	)
	addCommands(root, s)
	return root
}
