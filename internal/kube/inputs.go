package kube

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// StdinName is the fileName of reports for standard input, as in kubesec.
const StdinName = "STDIN"

// ErrNoDocument is reported for an input holding no YAML or JSON document.
var ErrNoDocument = errors.New("no YAML or JSON document")

// InputError is an input that could not be scanned.
type InputError struct {
	Path string
	Err  error
}

func (e *InputError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ErrNoManifestFile is reported for a directory holding no manifest file.
var ErrNoManifestFile = errors.New("no .yaml, .yml or .json file in this directory")

// ScanPaths scans files, directories (every .yaml, .yml and .json file
// below them, in lexical order) and "-" (stdin), in argument order. Inputs
// that cannot be read, directories without a manifest file and inputs
// holding no document are returned as *InputError (wrapping
// ErrNoManifestFile and ErrNoDocument for the last two) while the others
// are scanned.
func (s *Scanner) ScanPaths(paths []string, stdin io.Reader) ([]Report, []error) {
	var reports []Report
	errs := s.ScanPathsFunc(paths, stdin, func(r *Report) error {
		reports = append(reports, *r)
		return nil
	})
	return reports, errs
}

// ScanPathsFunc is ScanPaths handing each report to emit (see ScanFunc)
// instead of collecting them. An error of emit stops the scan and is the
// last error returned.
func (s *Scanner) ScanPathsFunc(paths []string, stdin io.Reader, emit func(*Report) error) []error {
	return s.ScanManifestsFunc(paths, stdin, func(_ *Manifest, r *Report) error { return emit(r) })
}

// ScanManifestsFunc is ScanPathsFunc handing emit each manifest with its
// report, so that a caller judging the manifests otherwise too (kube scan
// --policy) reads, splits and scores the input once.
func (s *Scanner) ScanManifestsFunc(paths []string, stdin io.Reader, emit func(*Manifest, *Report) error) []error {
	return forEachInput(paths, stdin, func(name string, data []byte) (int, error) {
		n := 0
		err := s.scanManifests(data, name, func(m *Manifest, r *Report) error {
			n++
			return emit(m, r)
		})
		return n, err
	})
}

// ReadPaths reads the manifests of paths as ScanPaths takes them and hands
// each to emit, without scoring them (policy test). Its errors are those of
// ScanPaths.
func ReadPaths(paths []string, stdin io.Reader, emit func(*Manifest) error) []error {
	return forEachInput(paths, stdin, func(name string, data []byte) (int, error) {
		n := 0
		err := ReadManifests(data, name, func(m *Manifest) error {
			n++
			return emit(m)
		})
		return n, err
	})
}

// forEachInput reads every input of paths ("-" is stdin, directories are
// walked) and hands its content to read, which returns how many manifests
// it found. Inputs that cannot be read or hold nothing are returned as
// *InputError; an error of read stops the walk and is the last returned.
func forEachInput(paths []string, stdin io.Reader, read func(name string, data []byte) (int, error)) []error {
	var errs []error
	one := func(name string, data []byte) error {
		n, err := read(name, data)
		if err == nil && n == 0 {
			errs = append(errs, &InputError{name, ErrNoDocument})
		}
		return err
	}
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, &InputError{StdinName, fmt.Errorf("reading: %w", err)})
				continue
			}
			if err := one(StdinName, data); err != nil {
				return append(errs, err)
			}
			continue
		}
		files, err := ManifestFiles(p)
		if err == nil && len(files) == 0 {
			err = ErrNoManifestFile
		}
		if err != nil {
			errs = append(errs, &InputError{p, err})
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, &InputError{f, pathErr(err)})
				continue
			}
			if err := one(f, data); err != nil {
				return append(errs, err)
			}
		}
	}
	return errs
}

// ManifestFiles returns p itself when it is not a directory, else the
// manifest files below it (.yaml, .yml and .json, sorted): what kube scan
// reads for a path argument.
func ManifestFiles(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, pathErr(err)
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if d.Type().IsRegular() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking: %w", err)
	}
	slices.Sort(files)
	return files, nil
}

// pathErr drops the operation and path of an *fs.PathError, which
// InputError already names.
func pathErr(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}
