package inventory

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
)

func typeCounts(pkgs []Package) map[string]int {
	m := map[string]int{}
	for _, p := range pkgs {
		m[p.Type+" "+p.FilePath]++
	}
	return m
}

var projectCounts = map[string]int{
	"gomod go.mod":                      4,
	"npm frontend-v1/package-lock.json": 4,
	"npm frontend-v2/package-lock.json": 4,
	"npm frontend-v3/package-lock.json": 2,
	"yarn yarn-classic/yarn.lock":       3,
	"yarn yarn-berry/yarn.lock":         3,
	"pnpm pnpm-v5/pnpm-lock.yaml":       5,
	"pnpm pnpm-v6/pnpm-lock.yaml":       4,
	"pnpm pnpm-v9/pnpm-lock.yaml":       3,
	"pip python/requirements.txt":       4,
	"poetry python/poetry.lock":         4,
	"pipenv python/Pipfile.lock":        2,
	"cargo rust/Cargo.lock":             2,
	"bundler ruby/Gemfile.lock":         5,
	"composer php/composer.lock":        3,
}

func TestScanDirLockfiles(t *testing.T) {
	t.Parallel()
	inv, err := Collect(context.Background(), Target{KindDir, "testdata/project"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(projectCounts, typeCounts(inv.Packages)); d != "" {
		t.Errorf("packages per lock file (-want +got):\n%s", d)
	}
	for _, p := range inv.Packages {
		if p.PURL == "" || p.Ecosystem == "" {
			t.Errorf("%s %s: purl %q ecosystem %q", p.Type, p.Name, p.PURL, p.Ecosystem)
		}
		if p.Layer != nil {
			t.Errorf("%s: a directory has no layers", p.Name)
		}
	}
	if inv.OS != nil {
		t.Errorf("OS %+v for a source tree", inv.OS)
	}
}

func TestScanRootfs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	status, _ := os.ReadFile("testdata/dpkg/status")
	for p, c := range map[string]string{
		"usr/lib/os-release":                    "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
		"etc/debian_version":                    "12.8\n",
		"var/lib/dpkg/status":                   string(status),
		"usr/lib/node_modules/npm/package.json": `{"name": "npm", "version": "9.2.0", "license": "Artistic-2.0"}`,
		"proc/1/root/var/lib/dpkg/status":       "Package: from-proc\nStatus: install ok installed\nVersion: 1\n",
		"srv/app/package-lock.json":             `{"lockfileVersion": 3, "packages": {"node_modules/x": {"version": "1.0.0"}}}`,
	} {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// etc/os-release is a relative symlink as on Debian; a symlink out of
	// the root must not be followed.
	os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc/os-release"))
	os.MkdirAll(filepath.Join(root, "lib/apk/db"), 0o755)
	os.Symlink("/var/lib/dpkg/status", filepath.Join(root, "lib/apk/db/installed"))

	inv, err := Collect(context.Background(), Target{KindRootfs, root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"dpkg var/lib/dpkg/status": 6, "node-pkg usr/lib/node_modules/npm/package.json": 1}
	if d := cmp.Diff(want, typeCounts(inv.Packages)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if inv.OS == nil || inv.OS.Name != "12.8" {
		t.Errorf("OS %+v", inv.OS)
	}
}

func commitFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(files[n]), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(n); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit("lock files", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestScanGit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cargo, _ := os.ReadFile("testdata/project/rust/Cargo.lock")
	gomod, _ := os.ReadFile("testdata/project/go.mod")
	commit := commitFiles(t, dir, map[string]string{
		"go.mod":            string(gomod),
		"server/Cargo.lock": string(cargo),
		"README.md":         "# shop\n",
	})
	// Uncommitted work does not count: the repository is read at HEAD.
	os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("flask==2.0.1\n"), 0o644)
	want := map[string]int{"gomod go.mod": 4, "cargo server/Cargo.lock": 2}

	inv, err := Collect(context.Background(), Target{KindGit, dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, typeCounts(inv.Packages)); d != "" {
		t.Errorf("local repository (-want +got):\n%s", d)
	}
	if inv.Source.Commit != commit {
		t.Errorf("commit %q, want %q", inv.Source.Commit, commit)
	}

	t.Run("clone", func(t *testing.T) {
		needTool(t, "git", "git") // go-git's file:// transport runs git-upload-pack
		tmp := t.TempDir()
		inv, err := Collect(context.Background(), Target{KindGit, "file://" + dir}, Options{TempDir: tmp})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, typeCounts(inv.Packages)); d != "" {
			t.Errorf("cloned repository (-want +got):\n%s", d)
		}
		if inv.Source.Commit != commit {
			t.Errorf("commit %q, want %q", inv.Source.Commit, commit)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("clone left files in the temp directory: %v", left)
		}
	})
}
