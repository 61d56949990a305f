package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// TestExitCode: the one mapping from a command's error to the exit code
// and to what Run prints.
func TestExitCode(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    int
		message string
	}{
		{"findings, bare", outcome.ErrFindings, 1, ""},
		{"findings with a message", fmt.Errorf("2 documents failed: %w", outcome.ErrFindings), 1, "2 documents failed: findings at or above the threshold"},
		{"invalid input", outcome.Invalid(errors.New("Dockerfile:3: unknown instruction")), 1, "Dockerfile:3: unknown instruction"},
		{"usage", outcome.Usagef("--days 0 is outside 1–3650"), 2, "--days 0 is outside 1–3650"},
		{"unreadable", outcome.Unreadable(errors.New("x.yaml does not exist")), 2, "x.yaml does not exist"},
		{"unreadable beats findings", errors.Join(outcome.ErrFindings, outcome.Unreadable(errors.New("y"))), 2, "findings at or above the threshold\ny"},
		{"chosen code", outcome.WithCode(outcome.ErrFindings, 44), 44, ""},
		{"SIGINT", Interrupted(syscall.SIGINT), 130, "interrupted by SIGINT"},
		{"SIGTERM", Interrupted(syscall.SIGTERM), 143, "interrupted by SIGTERM"},
		{"interrupted without signal", outcome.ErrInterrupted, 130, ""},
		{"ExitError", &ExitError{Code: 3}, 3, ""},
		{"ExitError with message", &ExitError{Code: 1, Err: errors.New("m")}, 1, "m"},
		{"unknown kind", errors.New("something"), 2, "something"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.code {
				t.Errorf("exitCode = %d, want %d", got, tt.code)
			}
			if got := message(tt.err); got != tt.message {
				t.Errorf("message = %q, want %q", got, tt.message)
			}
		})
	}
}

// TestRunInterrupted: a command blocked on stdin returns the signal's code
// soon after the context ends, without Go's "context canceled".
func TestRunInterrupted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cancel func(context.CancelCauseFunc)
		code   int
		msg    string
	}{
		{"SIGTERM", func(c context.CancelCauseFunc) { c(Interrupted(syscall.SIGTERM)) }, 143, "interrupted by SIGTERM\n"},
		{"SIGINT", func(c context.CancelCauseFunc) { c(Interrupted(syscall.SIGINT)) }, 130, "interrupted by SIGINT\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			pr, pw := io.Pipe() // stdin that never ends
			defer pw.Close()
			var stderr bytes.Buffer
			done := make(chan int, 1)
			go func() { done <- Run(ctx, []string{"kube", "scan", "-"}, pr, io.Discard, &stderr) }()
			time.Sleep(100 * time.Millisecond)
			tt.cancel(cancel)
			select {
			case code := <-done:
				// kube scan names the input it was reading.
				if code != tt.code || !strings.HasSuffix(stderr.String(), tt.msg) {
					t.Errorf("code %d, stderr %q; want %d, %q", code, stderr.String(), tt.code, tt.msg)
				}
				if strings.Contains(stderr.String(), "context canceled") {
					t.Error("Go's context error reached the user")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run still blocked 10 s after the context ended")
			}
		})
	}
}
