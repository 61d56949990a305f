package secret

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Stats counts what a scan read and what it skipped.
type Stats struct {
	// Files and Bytes count the files scanned and their bytes.
	Files int
	Bytes int64
	// SkippedBinary and SkippedLarge count files not scanned because they
	// are binary or over the size limit.
	SkippedBinary int
	SkippedLarge  int
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.SkippedBinary += o.SkippedBinary
	s.SkippedLarge += o.SkippedLarge
}

// Count records the outcome of one ScanFile of size bytes.
func (s *Stats) Count(size int64, err error) {
	switch {
	case errors.Is(err, ErrBinary):
		s.SkippedBinary++
	case errors.Is(err, ErrTooLarge):
		s.SkippedLarge++
	case err == nil:
		s.Files++
		s.Bytes += size
	}
}

// Targets of image config findings (Finding.Path).
const (
	ConfigEnv        = "config.Env"
	ConfigLabels     = "config.Labels"
	ConfigCmd        = "config.Cmd"
	ConfigEntrypoint = "config.Entrypoint"
)

// HistoryTarget is the Finding.Path of a secret in the created_by line of
// history entry i (0-based).
func HistoryTarget(i int) string { return fmt.Sprintf("history[%d].created_by", i) }

// ScanConfig finds secrets in an image configuration: the environment
// (line N is the Nth variable), the labels (sorted by key, one a line),
// the command and entrypoint, and each history entry's created_by.
func (s *Scanner) ScanConfig(cfg *v1.ConfigFile) []Finding {
	if cfg == nil {
		return nil
	}
	var out []Finding
	scan := func(target, text string) {
		if text != "" {
			out = append(out, s.ScanBytes(target, []byte(text))...)
		}
	}
	scan(ConfigEnv, strings.Join(cfg.Config.Env, "\n"))
	keys := slices.Sorted(maps.Keys(cfg.Config.Labels))
	labels := make([]string, len(keys))
	for i, k := range keys {
		labels[i] = k + "=" + cfg.Config.Labels[k]
	}
	scan(ConfigLabels, strings.Join(labels, "\n"))
	scan(ConfigEntrypoint, strings.Join(cfg.Config.Entrypoint, " "))
	scan(ConfigCmd, strings.Join(cfg.Config.Cmd, " "))
	for i, h := range cfg.History {
		scan(HistoryTarget(i), h.CreatedBy)
	}
	return out
}

// ScanTree finds secrets in the regular files below dir (symbolic links
// are not followed; .git directories are skipped: their objects are
// compressed). Like find -xdev it stays on dir's file system, so that a
// scan of / does not read /proc (where /proc/kmsg blocks) or /sys.
// Finding paths are relative to dir, slash-separated.
func (s *Scanner) ScanTree(ctx context.Context, dir string) ([]Finding, Stats, error) {
	var out []Finding
	var st Stats
	var rootDev uint64
	haveDev := false
	if fi, err := os.Stat(dir); err == nil {
		rootDev, haveDev = device(fi)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != dir {
				return filepath.SkipDir
			}
			if p != dir && haveDev {
				if fi, err := d.Info(); err == nil {
					if dev, ok := device(fi); ok && dev != rootDev {
						return filepath.SkipDir
					}
				}
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > s.maxSize {
			st.SkippedLarge++
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		fs, err := s.ScanFile(rel, f)
		f.Close()
		st.Count(info.Size(), err)
		if err != nil && !errors.Is(err, ErrBinary) && !errors.Is(err, ErrTooLarge) {
			return err
		}
		out = append(out, fs...)
		return nil
	})
	if err != nil {
		return nil, st, fmt.Errorf("scanning %s for secrets: %w", dir, err)
	}
	return out, st, nil
}
