// Package outfile writes a command's report to the file named by -o/--output.
//
// Whether a report is kept is decided here, for every command: a run that
// ends well or with findings (outcome.ErrFindings, outcome.ErrInvalidInput)
// puts its report in place; any other end — a usage error, an unreadable
// input, a signal — leaves the target as it was (see Keeps and Finish).
//
// A new or regular file is replaced atomically once the report is complete,
// so a failed or interrupted run leaves an earlier report as it was. Anything
// else — a symlink (/dev/stdout), a device (/dev/null), a named pipe — is
// written through and never replaced: renaming a temporary file over
// /dev/null would swap the device for a regular file for every process of
// the machine.
package outfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/renameio/v2"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// File is an output being written. Write to it, then Commit; Discard undoes
// an uncommitted atomic replacement and is safe to defer.
type File struct {
	path    string
	bw      *bufio.Writer
	pending *renameio.PendingFile // regular or new files
	direct  *os.File              // everything else
	done    bool
}

var _ io.Writer = (*File)(nil)

// Create opens path for a report.
func Create(path string) (*File, error) {
	f := &File{path: path}
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return nil, fmt.Errorf("creating %s: is a directory", path)
		}
		d, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		f.direct = d
		f.bw = bufio.NewWriterSize(d, 64<<10)
		return f, nil
	}
	pf, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644), renameio.WithExistingPermissions())
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	f.pending = pf
	f.bw = bufio.NewWriterSize(pf, 64<<10)
	return f, nil
}

// Write buffers p for the output.
func (f *File) Write(p []byte) (int, error) { return f.bw.Write(p) }

// Commit flushes the report and puts it in place.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("writing %s: already committed", f.path)
	}
	f.done = true
	err := f.bw.Flush()
	if f.direct != nil {
		err = errors.Join(err, f.direct.Close())
	} else if err == nil {
		err = f.pending.CloseAtomicallyReplace()
	} else {
		err = errors.Join(err, f.pending.Cleanup())
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}

// Discard drops an uncommitted report: the temporary file is removed and the
// target left as it was (a special file has already been opened for writing,
// so it only gets closed). It does nothing after Commit.
func (f *File) Discard() {
	if f.done {
		return
	}
	f.done = true
	if f.direct != nil {
		f.direct.Close()
		return
	}
	f.pending.Cleanup()
}

// Keeps reports whether a run that ended with err keeps its report: when
// err is nil or says only that the run found something (findings at or
// above the threshold, input that does not parse). A usage error, an input
// or output that cannot be read or written, a signal or a cancelled context
// drop it, even when findings came too.
func Keeps(err error) bool {
	if err == nil {
		return true
	}
	for _, bad := range []error{outcome.ErrUsage, outcome.ErrUnreadable, outcome.ErrInterrupted, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, bad) {
			return false
		}
	}
	return errors.Is(err, outcome.ErrFindings) || errors.Is(err, outcome.ErrInvalidInput)
}

// Finish ends a run that ended with runErr: it commits the report when
// Keeps(runErr) and discards it otherwise. It returns runErr, joined with
// the error of committing (marked outcome.ErrUnreadable) if there is one.
func (f *File) Finish(runErr error) error {
	if !Keeps(runErr) {
		f.Discard()
		return runErr
	}
	if err := f.Commit(); err != nil {
		return errors.Join(runErr, outcome.Unreadable(err))
	}
	return runErr
}

// Run opens path, runs write against it and finishes the file with the
// error write returns (see Finish). An error opening path is marked
// outcome.ErrUnreadable, like any output that cannot be written.
func Run(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return outcome.Unreadable(err)
	}
	defer f.Discard()
	return f.Finish(write(f))
}
