package fix

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/imagecheck"
)

// requireBuildTools skips (or, under TOLLGATE_REQUIRE_E2E=1, fails) the
// real-build test when buildah cannot build here: it needs root, buildah,
// debootstrap and busybox-static (scripts/test-deps.sh installs them).
func requireBuildTools(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (buildah runs rootful)")
	}
	for _, tool := range []string{"buildah", "debootstrap", "flock"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		missing = append(missing, "/bin/busybox (busybox-static)")
	}
	if len(missing) == 0 {
		return
	}
	msg := "real builds need " + strings.Join(missing, ", ") + " (scripts/test-deps.sh installs them)"
	if os.Getenv("TOLLGATE_REQUIRE_E2E") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// builtImage is what the test compares of a built image.
type builtImage struct {
	layers int
	size   int64 // uncompressed bytes, the sum of the layers
	user   string
	argv   []string
}

func buildah(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "buildah", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("buildah %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func inspect(t *testing.T, ctx context.Context, tag string) builtImage {
	t.Helper()
	var info struct {
		Manifest string
		Docker   struct {
			Config struct {
				User       string
				Entrypoint []string
				Cmd        []string
			} `json:"config"`
		}
	}
	if err := json.Unmarshal([]byte(buildah(t, ctx, "inspect", "--type", "image", tag)), &info); err != nil {
		t.Fatalf("reading buildah inspect of %s: %v", tag, err)
	}
	var m struct {
		Layers []struct{ Size int64 } `json:"layers"`
	}
	if err := json.Unmarshal([]byte(info.Manifest), &m); err != nil {
		t.Fatalf("reading the manifest of %s: %v", tag, err)
	}
	img := builtImage{layers: len(m.Layers), user: info.Docker.Config.User}
	for _, l := range m.Layers {
		img.size += l.Size
	}
	img.argv = append(append(img.argv, info.Docker.Config.Entrypoint...), info.Docker.Config.Cmd...)
	return img
}

// runImage runs the image's command in a container and returns its output.
func runImage(t *testing.T, ctx context.Context, tag string, argv []string) string {
	t.Helper()
	ctr := strings.TrimSpace(buildah(t, ctx, "from", "--pull=never", tag))
	defer buildah(t, context.Background(), "rm", ctr)
	return buildah(t, ctx, append([]string{"run", "--isolation=chroot", ctr, "--"}, argv...)...)
}

// TestRealBuilds builds each example under testdata/build before and after
// fix with buildah, on base images made locally, and checks that the fixed
// image has fewer layers, is no bigger, runs as non-root and prints what
// the original printed. The figures go to the log (BENCHMARKS.md records
// them).
func TestRealBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("real buildah builds are skipped with -short")
	}
	requireBuildTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bases := exec.CommandContext(ctx, "testdata/build/base-images.sh")
	if out, err := bases.CombinedOutput(); err != nil {
		t.Fatalf("making the base images: %v\n%s", err, out)
	}
	cases, err := filepath.Glob("testdata/build/*/Dockerfile")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no build cases: %v", err)
	}
	var table []string
	for _, df := range cases {
		dir := filepath.Dir(df)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(df)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Fix(df, src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			after := filepath.Join(t.TempDir(), "Dockerfile.fixed")
			if err := os.WriteFile(after, res.Output, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("fixed Dockerfile:\n%s", res.Output)
			imgs := map[string]builtImage{}
			outs := map[string]string{}
			hygiene := map[string][]string{}
			for _, v := range []struct{ which, file string }{{"before", df}, {"after", after}} {
				tag := "localhost/tollgate-fix-" + name + ":" + v.which
				buildah(t, ctx, "bud", "--isolation=chroot", "--layers", "--format", "docker", "--pull=never", "-q", "-f", v.file, "-t", tag, dir)
				imgs[v.which] = inspect(t, ctx, tag)
				outs[v.which] = runImage(t, ctx, tag, imgs[v.which].argv)
				hygiene[v.which] = hygieneFindings(t, ctx, tag)
			}
			b, a := imgs["before"], imgs["after"]
			if a.layers >= b.layers {
				t.Errorf("layers: %d after, %d before; want fewer", a.layers, b.layers)
			}
			if a.size > b.size {
				t.Errorf("size: %d bytes after, %d before; want no more", a.size, b.size)
			}
			if outs["after"] != outs["before"] || strings.TrimSpace(outs["before"]) == "" {
				t.Errorf("output after %q, before %q; want the same, not empty", outs["after"], outs["before"])
			}
			if a.user == "" || a.user == "root" || a.user == "0" {
				t.Errorf("the fixed image runs as %q", a.user)
			}
			// The built-image checks behind `tollgate image --scanners
			// misconfig` see the difference too.
			if len(hygiene["after"]) >= len(hygiene["before"]) {
				t.Errorf("hygiene findings: %d after %v, %d before %v; want fewer", len(hygiene["after"]), hygiene["after"], len(hygiene["before"]), hygiene["before"])
			}
			table = append(table, fmt.Sprintf("| %s | %d | %d | %d | %d | %q → %q | %d → %d |", name, b.layers, a.layers, b.size, a.size, b.user, a.user, len(hygiene["before"]), len(hygiene["after"])))
		})
	}
	t.Logf("| case | layers before | layers after | bytes before | bytes after | user | hygiene findings |\n%s", strings.Join(table, "\n"))
}

// hygieneFindings saves the image tag as a docker save tar and runs the
// built-image checks on it (internal/imagecheck, what `tollgate image
// --scanners misconfig` reports), returning the IDs found.
func hygieneFindings(t *testing.T, ctx context.Context, tag string) []string {
	t.Helper()
	tar := filepath.Join(t.TempDir(), "image.tar")
	buildah(t, ctx, "push", "-q", tag, "docker-archive:"+tar+":"+tag)
	img, err := image.OpenArchive(tar, image.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("opening %s: %v", tar, err)
	}
	res, err := imagecheck.Check(ctx, img, imagecheck.Options{})
	if err != nil {
		t.Fatalf("checking %s: %v", tag, err)
	}
	var ids []string
	for _, f := range res.Misconfigurations {
		ids = append(ids, f.ID)
	}
	return ids
}
