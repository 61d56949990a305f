package inventory

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// rootfsSkip are the top-level directories of a live root filesystem that
// hold no installed software (kernel and device interfaces).
var rootfsSkip = map[string]bool{"proc": true, "sys": true, "dev": true}

// ScanDir inventories a directory. For KindRootfs it reads installed
// packages as in an image; for other kinds the lock files of a source
// tree. Symbolic links are never followed, and the directory is read
// through os.Root, so nothing outside it is read.
func ScanDir(ctx context.Context, dir string, kind Kind, o Options) (*Inventory, error) {
	as := sourceAnalyzers()
	if kind == KindRootfs {
		as = imageAnalyzers()
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	tmp, err := os.MkdirTemp(o.TempDir, "tollgate-scan-*")
	if err != nil {
		return nil, fmt.Errorf("creating temp directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	c := newCollector(as, tmp)
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			c.warn(fmt.Sprintf("%s: %v", p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && skipDir(p, d.Name(), kind) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			c.warn(fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		if len(as.wanting(p, info.Mode())) == 0 {
			return nil
		}
		f, err := root.Open(p)
		if err != nil {
			c.warn(fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		defer f.Close()
		if err := c.file(p, info.Mode(), info.Size(), f); err != nil {
			c.warn(fmt.Sprintf("%s: %v", p, err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r, err := c.result()
	if err != nil {
		return nil, err
	}
	inv := merge([]*layerResult{r}, nil)
	inv.Source = Source{Kind: kind, Name: dir}
	return inv, nil
}

func skipDir(p, name string, kind Kind) bool {
	if name == ".git" {
		return true
	}
	if kind == KindRootfs {
		return !strings.Contains(p, "/") && rootfsSkip[p]
	}
	// Installed dependency trees are not the project's lock files.
	return name == "node_modules" || (name == "vendor" && path.Base(path.Dir(p)) != "vendor")
}
