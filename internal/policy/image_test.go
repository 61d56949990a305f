package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testDigest = "sha256:beb6bd6a68f114c1dc2ea4b28db81bdf91de202a9014972bec5e4d9171d90ed0"

func TestParseImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref     string
		want    Image
		wantErr bool
	}{
		{ref: "nginx", want: Image{Registry: "index.docker.io", Repository: "library/nginx"}},
		{ref: "nginx:1.16", want: Image{Registry: "index.docker.io", Repository: "library/nginx", Tag: "1.16"}},
		{ref: "nginx:latest", want: Image{Registry: "index.docker.io", Repository: "library/nginx", Tag: "latest"}},
		{ref: "docker.io/nginx", want: Image{Registry: "index.docker.io", Repository: "library/nginx"}},
		{ref: "docker.io/team/app:2", want: Image{Registry: "index.docker.io", Repository: "team/app", Tag: "2"}},
		// A registry port is not a tag.
		{ref: "registry.local:5000/foo/bar", want: Image{Registry: "registry.local:5000", Repository: "foo/bar"}},
		{ref: "registry.local:5000/foo/bar:2.0", want: Image{Registry: "registry.local:5000", Repository: "foo/bar", Tag: "2.0"}},
		{ref: "localhost/app:1", want: Image{Registry: "localhost", Repository: "app", Tag: "1"}},
		{ref: "127.0.0.1:5000/app", want: Image{Registry: "127.0.0.1:5000", Repository: "app"}},
		{ref: "quay.io/foo/bar:latest", want: Image{Registry: "quay.io", Repository: "foo/bar", Tag: "latest"}},
		{ref: "myrepo/myimage@" + testDigest, want: Image{Registry: "index.docker.io", Repository: "myrepo/myimage", Digest: testDigest}},
		{ref: "reg.io/app:1.2@" + testDigest, want: Image{Registry: "reg.io", Repository: "app", Tag: "1.2", Digest: testDigest}},
		{ref: "Reg.IO/app:1", want: Image{Registry: "reg.io", Repository: "app", Tag: "1"}},
		{ref: "", wantErr: true},
		{ref: " nginx", wantErr: true},
		{ref: "nginx:", wantErr: true},
		{ref: "Nginx", wantErr: true},
		{ref: "nginx@sha256:short", wantErr: true},
		{ref: "a@b@c", wantErr: true},
		{ref: "nginx:bad tag", wantErr: true},
		{ref: "http://reg.io/app:1", wantErr: true},
		{ref: "reg.io//app:1", wantErr: true},
		{ref: "reg.io/-app:1", wantErr: true},
		{ref: "[::1]:5000/app:1", want: Image{Registry: "[::1]:5000", Repository: "app", Tag: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			got, err := ParseImage(tt.ref)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseImage(%q) = %+v, want an error", tt.ref, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseImage(%q): %v", tt.ref, err)
			}
			tt.want.Raw = tt.ref
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseImage(%q) mismatch (-want +got):\n%s", tt.ref, diff)
			}
		})
	}
}

func TestNormalizeRegistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "docker.io", want: "index.docker.io"},
		{in: "index.docker.io", want: "index.docker.io"},
		{in: "Registry.Example.com:5000", want: "registry.example.com:5000"},
		{in: "registry.io", want: "registry.io"},
		{in: "registry.io/team", wantErr: true},
		{in: "https://registry.io", wantErr: true},
		{in: "", wantErr: true},
		{in: "reg@x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeRegistry(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NormalizeRegistry(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("NormalizeRegistry(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzParseImage checks that parsing never panics, and that an accepted
// reference is self-consistent: no registry in the repository part, a
// digest only with "@", a tag only when the input has one.
func FuzzParseImage(f *testing.F) {
	for _, s := range []string{
		"nginx", "nginx:1.16", "nginx:latest", "registry.local:5000/foo/bar", "localhost/app",
		"reg.io/app:1.2@" + testDigest, "a@b@c", "docker.io/library/nginx", "[::1]:5000/app:1",
		"nginx:", ":", "@", "registry.io.evil.com/x", "UPPER/case", "a/b/c/d/e:f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		img, err := ParseImage(ref)
		if err != nil {
			return
		}
		if img.Raw != ref {
			t.Fatalf("Raw = %q, want %q", img.Raw, ref)
		}
		if img.Registry == "" || img.Repository == "" {
			t.Fatalf("ParseImage(%q) = %+v: empty registry or repository", ref, img)
		}
		if img.Digest != "" && !containsByte(ref, '@') {
			t.Fatalf("ParseImage(%q) has digest %q without '@'", ref, img.Digest)
		}
		if img.Tag != "" && !containsByte(ref, ':') {
			t.Fatalf("ParseImage(%q) has tag %q without ':'", ref, img.Tag)
		}
		if _, err := NormalizeRegistry(img.Registry); err != nil {
			t.Fatalf("registry %q of %q does not normalize: %v", img.Registry, ref, err)
		}
	})
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}
