// Package cli wires tollgate's commands to cobra. It holds no logic of its
// own: each command turns its flags into an options struct and calls one
// function of a capability package.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/ctxio"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/output"
)

// Exit codes shared by every command. Run alone chooses them, from the
// outcome sentinels a command's error wraps.
const (
	ExitOK       = 0 // nothing at or above the failure threshold
	ExitFindings = 1 // findings at or above the threshold, or input that does not parse
	ExitUsage    = 2 // bad flags or arguments, unreadable input, a server that cannot start
)

// ExitError carries a specific exit code out of a command. It predates the
// outcome sentinels (outcome.WithCode does the same) and is kept while
// commands move to them.
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

// annotDrains marks a command that handles the first interrupt itself (a
// server draining its requests): Run waits for it instead of returning
// after interruptGrace.
const annotDrains = "tollgate.dev/drains-on-interrupt"

// interruptGrace is how long Run lets an interrupted command clean up
// (discard a pending -o file, close what it opened) before returning
// without it: a command blocked in a read that cannot be abandoned must
// not keep the user waiting.
const interruptGrace = 500 * time.Millisecond

// Run executes tollgate with args (without the program name) and returns the
// process exit code. It builds a fresh command tree on every call, so tests
// can run it in-process. When ctx is cancelled (SignalContext: SIGINT or
// SIGTERM), standard input stops blocking, and a command other than a server
// gets interruptGrace to return before Run returns the signal's code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	stdin = ctxio.Reader(ctx, stdin)
	s := &streams{in: stdin, out: stdout, err: stderr}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	drains := false
	if c, _, err := root.Find(args); err == nil {
		drains = c.Annotations[annotDrains] != ""
	}
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		if drains {
			err = <-done
			break
		}
		t := time.NewTimer(interruptGrace)
		select {
		case err = <-done:
		case <-t.C:
			err = context.Cause(ctx)
		}
		t.Stop()
	}
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if ctx.Err() != nil {
		// Whatever the command made of the cancellation, the run was
		// interrupted: the signal's code, and no "context canceled".
		cause := context.Cause(ctx)
		if !errors.Is(cause, outcome.ErrInterrupted) {
			cause = Interrupted(os.Interrupt) // cancelled without saying why
		}
		code = exitCode(cause)
		if errors.Is(err, context.Canceled) || errors.Is(err, outcome.ErrInterrupted) {
			err = cause
		}
	}
	if msg := message(err); msg != "" {
		// errors quote input (file names, fields): escape what a
		// terminal would act on
		fmt.Fprintf(stderr, "tollgate: %s\n", output.EscapeLines(msg))
	}
	return code
}

// exitCode maps a command's error to the process exit code: a code chosen
// with outcome.WithCode (an interrupt's 130 or 143, kube scan --exit-code)
// wins; then an interrupt (130), usage errors and unreadable input (2),
// findings and input that does not parse (1). An error of no known kind is
// a usage error.
func exitCode(err error) int {
	if c, ok := outcome.Code(err); ok {
		return c
	}
	if e, ok := errors.AsType[*ExitError](err); ok {
		return e.Code
	}
	switch {
	case errors.Is(err, outcome.ErrInterrupted):
		return signalCode(os.Interrupt)
	case errors.Is(err, outcome.ErrUsage), errors.Is(err, outcome.ErrUnreadable):
		return ExitUsage
	case errors.Is(err, outcome.ErrFindings), errors.Is(err, outcome.ErrInvalidInput):
		return ExitFindings
	}
	return ExitUsage
}

// message is what Run prints for err: nothing when the command already
// said everything (an ExitError without error, a bare sentinel such as
// outcome.ErrFindings after the report), else the error's text.
func message(err error) string {
	if e, ok := errors.AsType[*ExitError](err); ok && e.Err == nil {
		return ""
	}
	for _, k := range []error{outcome.ErrFindings, outcome.ErrInvalidInput, outcome.ErrUsage, outcome.ErrUnreadable, outcome.ErrInterrupted} {
		if errors.Is(err, k) && err.Error() == k.Error() {
			return ""
		}
	}
	return err.Error()
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "tollgate",
		Short: "Guard a Kubernetes supply chain from the Dockerfile to the running Pod",
		Long: `tollgate lints Dockerfiles, inventories images and source trees as SBOMs,
scores Kubernetes manifests, tests manifests against an admission policy, and
answers the kube-apiserver's admission requests, all under one policy.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return outcome.Usagef("%v (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(
		newVersionCmd(s),
	)
	addCommands(root, s)
	return root
}
