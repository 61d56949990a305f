package inventory

import (
	"context"
	"fmt"
	"os"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ScanGit inventories the lock files of a git repository at its HEAD
// commit: a local repository (a path) is read in place, a remote one (a
// URL) is cloned — one commit deep, without a working tree — into the temp
// directory and removed afterwards. Files are read from the commit, so
// uncommitted changes of a local checkout do not count.
func ScanGit(ctx context.Context, src string, o Options) (*Inventory, error) {
	tmp, err := os.MkdirTemp(o.TempDir, "tollgate-scan-*")
	if err != nil {
		return nil, fmt.Errorf("creating temp directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	var repo *git.Repository
	if isRemoteGit(src) {
		repo, err = git.PlainCloneContext(ctx, tmp+"/repo", true, &git.CloneOptions{URL: src, Depth: 1, SingleBranch: true, Tags: git.NoTags})
		if err != nil {
			return nil, fmt.Errorf("cloning %s: %w", src, err)
		}
	} else {
		repo, err = git.PlainOpenWithOptions(src, &git.PlainOpenOptions{DetectDotGit: true})
		if err != nil {
			return nil, fmt.Errorf("opening git repository %s: %w", src, err)
		}
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("%s: reading HEAD: %w", src, err)
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, fmt.Errorf("%s: reading commit %s: %w", src, head.Hash(), err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("%s: reading tree of %s: %w", src, head.Hash(), err)
	}
	as := sourceAnalyzers()
	c := newCollector(as, tmp)
	err = tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable {
			return nil // symlinks and submodules
		}
		mode, err := f.Mode.ToOSFileMode()
		if err != nil || len(as.wanting(f.Name, mode)) == 0 {
			return nil
		}
		r, err := f.Reader()
		if err != nil {
			return fmt.Errorf("%s: reading %s: %w", src, f.Name, err)
		}
		defer r.Close()
		return c.file(f.Name, mode, f.Size, r)
	})
	if err != nil {
		return nil, err
	}
	res, err := c.result()
	if err != nil {
		return nil, err
	}
	inv := merge([]*layerResult{res}, nil)
	inv.Source = Source{Kind: KindGit, Name: src, Commit: head.Hash().String()}
	return inv, nil
}

// isRemoteGit tells URLs (https://…, ssh://…, file://…, git@host:path)
// from local paths.
func isRemoteGit(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	if _, err := os.Stat(s); err == nil {
		return false
	}
	at := strings.Index(s, "@")
	colon := strings.Index(s, ":")
	return at > 0 && colon > at
}
