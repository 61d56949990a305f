// Package outcome names the ways a tollgate run can end other than success.
// Capability packages wrap these sentinel errors (fmt.Errorf("…: %w",
// outcome.ErrInvalidInput)) and cli.Run alone turns them into exit codes,
// so no package keeps exit-code constants of its own.
package outcome

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrFindings: the run worked and found something at or above the
	// failure threshold. The report has been written.
	ErrFindings = errors.New("findings at or above the threshold")
	// ErrInvalidInput: an input was read but does not parse (a Dockerfile
	// syntax error, a manifest that is not YAML). Reported like a finding.
	ErrInvalidInput = errors.New("input does not parse")
	// ErrUsage: bad flags, arguments or configuration.
	ErrUsage = errors.New("usage error")
	// ErrUnreadable: an input could not be read (missing file, permission,
	// unreachable registry), or an output could not be written.
	ErrUnreadable = errors.New("input cannot be read")
	// ErrInterrupted: the run was stopped by a signal.
	ErrInterrupted = errors.New("interrupted")
)

// codeError carries an exit code that the user chose (kube scan
// --exit-code, Trivy's --exit-code) for a kind of outcome.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// WithCode returns err marked to exit with code instead of the default for
// its kind. The code must be 0–255; callers validate user input before.
func WithCode(err error, code int) error {
	if err == nil {
		return nil
	}
	return &codeError{code: code, err: err}
}

// Code returns the code WithCode attached to err, if any.
func Code(err error) (int, bool) {
	if ce, ok := errors.AsType[*codeError](err); ok {
		return ce.code, true
	}
	return 0, false
}

// kindError marks an error with one of the sentinels without changing its
// message: errors.Is(err, kind) holds, and err.Error() is the message alone.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// Mark returns err marked as kind (one of the sentinels above); the message
// shown to the user stays err's own.
func Mark(err, kind error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// Usagef returns a usage error with a message of its own.
func Usagef(format string, args ...any) error {
	return Mark(fmt.Errorf(format, args...), ErrUsage)
}

// Unreadable marks err as an input that cannot be read.
func Unreadable(err error) error { return Mark(err, ErrUnreadable) }

// Invalid marks err as an input that does not parse.
func Invalid(err error) error { return Mark(err, ErrInvalidInput) }
