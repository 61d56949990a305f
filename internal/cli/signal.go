package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// SignalContext returns a context that is cancelled at the first SIGINT or
// SIGTERM, with a cause that Run turns into exit code 130 or 143. A second
// signal calls exit with that code at once: a server draining its requests
// stops without waiting for them. stop releases the signals.
func SignalContext(parent context.Context, exit func(code int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(Interrupted(sig))
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			exit(signalCode(sig))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// Interrupted is the error of a run stopped by sig: it is
// outcome.ErrInterrupted with the shell's exit code for the signal.
func Interrupted(sig os.Signal) error {
	return outcome.WithCode(outcome.Mark(fmt.Errorf("interrupted by %s", signalName(sig)), outcome.ErrInterrupted), signalCode(sig))
}

// signalCode is the exit code a shell reports for a process killed by sig.
func signalCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}
