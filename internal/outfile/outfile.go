// Package outfile writes a command's report to the file named by -o/--output.
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
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/renameio/v2"
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

// WriteFile writes a whole report to path the way Create and Commit do.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Discard()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}
