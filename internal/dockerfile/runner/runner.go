// Package runner carries out `tollgate dockerfile lint`: it resolves the
// configuration from the environment, a config file and the command line,
// lints every Dockerfile (one bad file does not stop the others), writes the
// report and says how the run ended, as an outcome error.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/dockerfile/format"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/output"
)

// Options describe one lint run.
type Options struct {
	// Files are the Dockerfiles to lint; "-" is standard input.
	Files []string
	// ConfigFile is the --config file; "" looks for one the way hadolint
	// does (see dockerfile.ConfigCandidates).
	ConfigFile string
	// Flags are the settings given on the command line; they override the
	// config file, which overrides the environment.
	Flags dockerfile.Settings
	// FilePath replaces file names in the report (--file-path-in-report).
	FilePath string
	// Version is written into SARIF reports.
	Version string
	// Dir is the working directory, where the config file is looked for.
	Dir string
	// Getenv reads the environment.
	Getenv func(string) string
	Stdin  io.Reader
	// Stdout receives the report (standard output or the -o file).
	Stdout io.Writer
	Stderr io.Writer
	// Terminal reports that Stdout is a terminal (colour is only used then).
	Terminal bool
}

// Lint runs the lint and writes the report to o.Stdout. It returns nil when
// nothing is at or above the failure threshold, outcome.ErrFindings when
// something is (or a Dockerfile does not parse), outcome.ErrUnreadable when
// a Dockerfile could not be read (each is named on Stderr, the others are
// still linted), and a usage error when the run could not start (bad
// configuration or format, no file given).
func Lint(ctx context.Context, o Options) error {
	if len(o.Files) == 0 {
		return outcome.Usagef("no Dockerfile given (pass file names, or - for standard input)")
	}
	cfg, err := o.config()
	if err != nil {
		return outcome.Mark(err, outcome.ErrUsage)
	}
	write, err := format.Lookup(cfg.Format)
	if err != nil {
		return err
	}

	linter := dockerfile.NewLinter(cfg)
	var results []dockerfile.Result
	unreadable := false
	stdinRead := false
	for _, name := range o.Files {
		if err := ctx.Err(); err != nil {
			return outcome.Mark(err, outcome.ErrInterrupted)
		}
		src, err := o.read(name, &stdinRead)
		if err != nil {
			fmt.Fprintf(o.Stderr, "tollgate: cannot read Dockerfile %s: %v\n", output.Escape(name), output.Escape(err.Error()))
			unreadable = true
			continue
		}
		results = append(results, linter.Lint(name, src))
	}

	var buf bytes.Buffer
	rep := format.Report{Results: results, Options: format.Options{
		Color:    o.Terminal && !cfg.NoColor && o.Getenv("NO_COLOR") == "",
		FilePath: o.FilePath,
		Version:  o.Version,
		Rules:    linter.Rules(),
	}}
	if err := write(&buf, rep); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if _, err := o.Stdout.Write(buf.Bytes()); err != nil {
		return outcome.Unreadable(fmt.Errorf("writing the report: %w", err))
	}

	switch {
	case unreadable:
		return outcome.ErrUnreadable
	case cfg.NoFail:
		return nil
	}
	for i := range results {
		if results[i].Failed(cfg.FailureThreshold) {
			return outcome.ErrFindings
		}
	}
	return nil
}

// config resolves environment < config file < command line.
func (o *Options) config() (dockerfile.Config, error) {
	env, err := dockerfile.EnvSettings(o.Getenv)
	if err != nil {
		return dockerfile.Config{}, err
	}
	path := o.ConfigFile
	if path == "" {
		path = dockerfile.FindConfig(o.Dir, o.Getenv)
	}
	var file dockerfile.ConfigFile
	if path != "" {
		file, err = dockerfile.LoadConfigFile(path)
		if err != nil {
			return dockerfile.Config{}, err
		}
		for _, w := range file.Warnings {
			fmt.Fprintf(o.Stderr, "tollgate: warning: %s\n", output.Escape(w))
		}
	}
	cfg, err := dockerfile.Resolve(env, file.Settings, o.Flags)
	if err != nil {
		return dockerfile.Config{}, err
	}
	for _, w := range cfg.UnknownRules() {
		fmt.Fprintf(o.Stderr, "tollgate: warning: %s\n", output.Escape(w))
	}
	if cfg.Verbose {
		if path == "" {
			fmt.Fprintln(o.Stderr, "tollgate: no config file found")
		} else {
			fmt.Fprintf(o.Stderr, "tollgate: using config file %s\n", path)
		}
	}
	return cfg, nil
}

// maxDockerfileSize bounds what is read from one Dockerfile; real ones are
// a few kilobytes, so anything larger is a mistake (a binary, a device).
const maxDockerfileSize = 16 << 20

func (o *Options) read(name string, stdinRead *bool) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		if *stdinRead {
			return nil, errors.New("standard input was already read")
		}
		*stdinRead = true
		r = o.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, unwrapPath(err) // the caller names the file
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxDockerfileSize+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(b) > maxDockerfileSize {
		return nil, fmt.Errorf("larger than %d MiB, not a Dockerfile", maxDockerfileSize>>20)
	}
	return b, nil
}

func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}
