package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/kube"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	p, err := Resolve(DefaultName)
	if err != nil || p.Name() != "default" {
		t.Fatalf("Resolve(default) = %v, %v", p, err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	os.WriteFile(file, []byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: mine}\n"), 0o644)
	if p, err := Resolve(file); err != nil || p.Name() != "mine" {
		t.Errorf("Resolve(%s) = %v, %v", file, p, err)
	}
	if _, err := Resolve(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve(missing) = %v, want a not-exist error", err)
	}
}

func TestFromConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, body, want, wantErr string
	}{
		{name: "no config"},
		{name: "relative to the file", file: ".tollgate.yaml", body: "policy: pol/p.yaml\n", want: "pol/p.yaml"},
		{name: "yml", file: ".tollgate.yml", body: "policy: p.yaml\n", want: "p.yaml"},
		{name: "default", file: ".tollgate.yaml", body: "policy: default\n", want: "default"},
		{name: "absolute", file: ".tollgate.yaml", body: "policy: /etc/p.yaml\n", want: "/etc/p.yaml"},
		{name: "no key", file: ".tollgate.yaml", body: "other: 1\n"},
		{name: "bad yaml", file: ".tollgate.yaml", body: "policy: [\n", wantErr: "config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tt.file != "" {
				os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.body), 0o644)
			}
			got, err := FromConfig(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromConfig = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want != "" && want != DefaultName && !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if got != want {
				t.Errorf("FromConfig = %q, want %q", got, want)
			}
		})
	}
}

func TestReadInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "d", "sub"), 0o755)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	one := write("one.yaml", "a")
	write("d/b.yml", "b")
	write("d/sub/c.json", "c")
	write("d/notes.txt", "not a manifest")
	missing := filepath.Join(dir, "missing.yaml")

	inputs, err := ReadInputs([]string{one, "-", missing, filepath.Join(dir, "d")}, strings.NewReader("stdin"))
	var got []string
	for _, in := range inputs {
		got = append(got, strings.TrimPrefix(in.Name, dir+"/")+"="+string(in.Data))
	}
	want := []string{"one.yaml=a", kube.StdinName + "=stdin", "d/b.yml=b", "d/sub/c.json=c"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("inputs (-want +got):\n%s", d)
	}
	if err == nil || err.Error() != "reading manifest "+missing+": no such file or directory" {
		t.Errorf("error %v, want one naming %s", err, missing)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}
