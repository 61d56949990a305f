package outcome

import (
	"errors"
	"fmt"
	"testing"
)

func TestMarkKeepsMessageAndKind(t *testing.T) {
	base := errors.New("cannot read Dockerfile x: no such file")
	tests := []struct {
		name string
		err  error
		kind error
		msg  string
	}{
		{"usage", Usagef("--days must be at least 1, got %d", 0), ErrUsage, "--days must be at least 1, got 0"},
		{"unreadable", Unreadable(base), ErrUnreadable, base.Error()},
		{"invalid", Invalid(base), ErrInvalidInput, base.Error()},
		{"wrapped", fmt.Errorf("linting: %w", Unreadable(base)), ErrUnreadable, "linting: " + base.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.kind) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.kind)
			}
			if tt.err.Error() != tt.msg {
				t.Errorf("message %q, want %q", tt.err.Error(), tt.msg)
			}
			if tt.kind != ErrUsage && errors.Is(tt.err, ErrUsage) {
				t.Errorf("%v is also a usage error", tt.err)
			}
		})
	}
	if !errors.Is(Unreadable(base), base) {
		t.Error("Mark hides the original error from errors.Is")
	}
}

func TestWithCode(t *testing.T) {
	err := WithCode(fmt.Errorf("2 documents failed: %w", ErrFindings), 44)
	if c, ok := Code(fmt.Errorf("scan: %w", err)); !ok || c != 44 {
		t.Fatalf("Code = %d, %v; want 44, true", c, ok)
	}
	if !errors.Is(err, ErrFindings) {
		t.Error("WithCode hides the kind")
	}
	if _, ok := Code(ErrFindings); ok {
		t.Error("Code of a plain sentinel reports a code")
	}
	if WithCode(nil, 3) != nil || Mark(nil, ErrUsage) != nil {
		t.Error("nil error became non-nil")
	}
}
