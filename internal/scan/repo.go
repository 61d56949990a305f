package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/report"
)

// openRepo inventories a repository's lock files at HEAD, or at the
// branch, tag or commit asked for. A remote repository is cloned one
// commit deep (the whole history only for --commit, which may be any
// commit); a local one is read in place unless a revision is asked for,
// then it is cloned from the path like a remote.
func openRepo(ctx context.Context, o Options) (*artifact, error) {
	n := 0
	for _, s := range []string{o.Repo.Branch, o.Repo.Tag, o.Repo.Commit} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return nil, outcome.Usagef("give one of --branch, --tag and --commit")
	}
	src := o.Target
	remote := isRemote(src)
	a := &artifact{name: o.Target, typ: report.ArtifactRepository}
	if remote {
		a.meta.RepoURL = src
	}
	if !remote && n == 0 {
		inv, err := inventory.ScanGit(ctx, src, o.Inventory)
		if err != nil {
			return nil, err
		}
		a.inv = inv
		a.meta.Commit = inv.Source.Commit
		if a.checks, err = treeChecks(ctx, src, o); err != nil {
			return nil, err
		}
		return a, nil
	}
	tmp, err := os.MkdirTemp(o.Inventory.TempDir, "tollgate-repo-*")
	if err != nil {
		return nil, fmt.Errorf("creating temp directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	url := src
	if !remote {
		abs, err := filepath.Abs(src)
		if err != nil {
			return nil, err
		}
		url = "file://" + abs
	}
	co := &git.CloneOptions{URL: url, Depth: 1, SingleBranch: true, Tags: git.NoTags}
	switch {
	case o.Repo.Branch != "":
		co.ReferenceName = plumbing.NewBranchReferenceName(o.Repo.Branch)
		a.meta.Branch = o.Repo.Branch
	case o.Repo.Tag != "":
		co.ReferenceName = plumbing.NewTagReferenceName(o.Repo.Tag)
		a.meta.Tags = []string{o.Repo.Tag}
	case o.Repo.Commit != "":
		co.Depth, co.SingleBranch, co.Tags = 0, false, git.AllTags
	}
	dir := filepath.Join(tmp, "repo")
	repo, err := git.PlainCloneContext(ctx, dir, false, co)
	if err != nil {
		return nil, fmt.Errorf("cloning %s: %w", src, err)
	}
	if o.Repo.Commit != "" {
		h, err := repo.ResolveRevision(plumbing.Revision(o.Repo.Commit))
		if err != nil {
			return nil, fmt.Errorf("%s has no commit %s", src, o.Repo.Commit)
		}
		wt, err := repo.Worktree()
		if err != nil {
			return nil, err
		}
		if err := wt.Checkout(&git.CheckoutOptions{Hash: *h, Force: true}); err != nil {
			return nil, fmt.Errorf("checking out %s: %w", o.Repo.Commit, err)
		}
	}
	inv, err := inventory.ScanGit(ctx, dir, o.Inventory)
	if err != nil {
		return nil, err
	}
	a.inv = inv
	a.meta.Commit = inv.Source.Commit
	if a.checks, err = treeChecks(ctx, dir, o); err != nil {
		return nil, err
	}
	if head, err := repo.Head(); err == nil && a.meta.Branch == "" && head.Name().IsBranch() && o.Repo.Commit == "" {
		a.meta.Branch = head.Name().Short()
	}
	return a, nil
}

// isRemote tells URLs (https://…, ssh://…, file://…, git@host:path) from
// local paths.
func isRemote(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	if _, err := os.Stat(s); err == nil {
		return false
	}
	at, colon := strings.Index(s, "@"), strings.Index(s, ":")
	return at > 0 && colon > at
}
