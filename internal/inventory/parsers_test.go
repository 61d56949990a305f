package inventory

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary renders packages as "name@version" lines, with " dev" for
// development dependencies and " src=name@version" when a distro package's
// source differs, so expectations stay short and readable.
func summary(pkgs []Package) []string {
	var out []string
	for _, p := range pkgs {
		s := p.Name + "@" + p.Version
		if p.Arch != "" {
			s += " " + p.Arch
		}
		if p.SrcName != "" && (p.SrcName != p.Name || p.SrcVersion != p.Version) {
			s += " src=" + p.SrcName + "@" + p.SrcVersion
		}
		if p.Dev {
			s += " dev"
		}
		if len(p.Licenses) > 0 {
			s += " [" + strings.Join(p.Licenses, "|") + "]"
		}
		out = append(out, s)
	}
	return out
}

func openTestdata(t *testing.T, name string) io.Reader {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestParseDpkgStatus(t *testing.T) {
	t.Parallel()
	pkgs, err := parseDpkgStatus(openTestdata(t, "dpkg/status"), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"base-files@12.4+deb12u5 amd64",
		"libc6@2.36-9+deb12u4 amd64 src=glibc@2.36-9+deb12u4",
		"libssl3@3.0.11-1~deb12u2 amd64 src=openssl@3.0.11-1~deb12u2",
		"libgcc-s1@12.2.0-14 amd64 src=gcc-12@12.2.0-14",
		"zlib1g@1:1.2.13.dfsg-1 amd64 src=zlib@1:1.2.13.dfsg-1",
		// tzdata is "deinstall ok config-files": not installed.
		"perl-base@5.36.0-7+deb12u1+b1 amd64 src=perl@5.36.0-7+deb12u1",
	}
	if d := cmp.Diff(want, summary(pkgs)); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
}

func TestParseDpkgStatusD(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, want string }{
		{"dpkg/status.d/libssl3", "libssl3@3.0.11-1~deb12u2 amd64 src=openssl@3.0.11-1~deb12u2"},
		{"dpkg/status.d/tzdata", "tzdata@2024a-0+deb12u1 all"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			pkgs, err := parseDpkgStatus(openTestdata(t, tc.file), true)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{tc.want}, summary(pkgs)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestDpkgRequired(t *testing.T) {
	t.Parallel()
	a := dpkgAnalyzer{}
	for p, want := range map[string]bool{
		"var/lib/dpkg/status":                   true,
		"var/lib/dpkg/status.d/libssl3":         true,
		"var/lib/dpkg/status.d/libssl3.md5sums": false,
		"var/lib/dpkg/status-old":               false,
		"var/lib/dpkg/status.d/a/b":             false,
		"usr/var/lib/dpkg/status":               false,
	} {
		if got := a.required(p, 0o644); got != want {
			t.Errorf("required(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestParseDebianCopyright(t *testing.T) {
	t.Parallel()
	got, err := parseDebianCopyright(openTestdata(t, "dpkg/copyright-zlib"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"Zlib", "BSL-1.0"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	got, err = parseDebianCopyright(openTestdata(t, "dpkg/copyright-old"))
	if err != nil || len(got) != 0 {
		t.Errorf("free-form copyright: got %v, %v; want nothing", got, err)
	}
}

func TestParseApkInstalled(t *testing.T) {
	t.Parallel()
	pkgs, err := parseApkInstalled(openTestdata(t, "apk/installed"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"musl@1.2.4-r2 x86_64 [MIT]",
		"libcrypto3@3.1.4-r5 x86_64 src=openssl@3.1.4-r5 [Apache-2.0]",
		"libssl3@3.1.4-r5 x86_64 src=openssl@3.1.4-r5 [Apache-2.0]",
		"busybox@1.36.1-r15 x86_64 [GPL-2.0-only]",
	}
	if d := cmp.Diff(want, summary(pkgs)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestParsePythonMetadata(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, want string }{
		{"python/METADATA", "requests@2.31.0 [Apache 2.0]"},
		{"python/PKG-INFO", "PyYAML@5.4.1 [MIT]"},
		{"python/METADATA-classifier", "Flask_Login@0.6.3 [MIT License]"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p, ok, err := parsePythonMetadata(openTestdata(t, tc.file))
			if err != nil || !ok {
				t.Fatalf("got ok=%v err=%v", ok, err)
			}
			if d := cmp.Diff([]string{tc.want}, summary([]Package{p})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestPEP503Name(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Flask_Login": "flask-login", "zope.interface": "zope-interface", "A--B__c": "a-b-c", "requests": "requests"} {
		if got := pep503Name(in); got != want {
			t.Errorf("pep503Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGoToolchainVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"go1.22.1":                "1.22.1",
		"go1.21rc2":               "1.21.0-rc.2",
		"go1.20":                  "1.20.0",
		"go1.9beta1":              "1.9.0-beta.1",
		"go1.22.0 X:boringcrypto": "1.22.0",
		"devel go1.23-abcdef":     "",
		"":                        "",
	} {
		if got := goToolchainVersion(in); got != want {
			t.Errorf("goToolchainVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitSourceRPM(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][3]string{
		"bash-5.1.8-6.el9.src.rpm":              {"bash", "5.1.8", "6.el9"},
		"python3-pip-21.2.3-7.el9.src.rpm":      {"python3-pip", "21.2.3", "7.el9"},
		"kernel-5.14.0-362.8.1.el9_3.nosrc.rpm": {"kernel", "5.14.0", "362.8.1.el9_3"},
		"bad.src.rpm":                           {},
		"notasource":                            {},
	} {
		n, v, r, ok := splitSourceRPM(in)
		got := [3]string{n, v, r}
		if !ok {
			got = [3]string{}
		}
		if got != want {
			t.Errorf("splitSourceRPM(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLockfiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file  string
		parse func(io.Reader) ([]Package, error)
		want  []string
	}{
		{"project/go.mod", parseGoMod, []string{
			"github.com/gin-gonic/gin@1.9.1",
			"golang.org/x/net@0.17.0",
			"github.com/new/lib@1.2.0",
			"github.com/go-playground/validator/v10@10.14.0",
		}},
		{"project/frontend-v1/package-lock.json", parsePackageLock, []string{
			"@types/node@18.11.9 dev",
			"express@4.17.1",
			"qs@6.7.0",
			"lodash@4.17.20",
		}},
		{"project/frontend-v2/package-lock.json", parsePackageLock, []string{
			"jest@29.7.0 dev [MIT]",
			"minimist@1.2.8 dev [MIT]",
			"minimist@1.2.5 [MIT]",
			"string-width@4.2.3 [MIT]",
		}},
		{"project/frontend-v3/package-lock.json", parsePackageLock, []string{
			"@babel/code-frame@7.22.13 [MIT]",
			"express@4.18.2 [MIT]",
		}},
		{"project/yarn-classic/yarn.lock", parseYarnLock, []string{
			"@babel/code-frame@7.12.13",
			"lodash@4.17.21",
			"string-width-cjs@4.2.3",
		}},
		{"project/yarn-berry/yarn.lock", parseYarnLock, []string{
			"@babel/code-frame@7.22.13",
			"lodash@4.17.21",
			"resolve@1.22.8",
		}},
		{"project/pnpm-v5/pnpm-lock.yaml", parsePnpmLock, []string{
			"@types/react@18.2.14 dev",
			"js-tokens@4.0.0",
			"loose-envify@1.4.0",
			"react@18.2.0",
			"typescript@5.1.6 dev",
		}},
		{"project/pnpm-v6/pnpm-lock.yaml", parsePnpmLock, []string{
			"@types/express@4.17.17 dev",
			"express@4.18.2",
			"react-dom@18.2.0",
			"from-git@0.0.0",
		}},
		{"project/pnpm-v9/pnpm-lock.yaml", parsePnpmLock, []string{
			"@fastify/ajv-compiler@3.5.0",
			"fastify@4.24.0",
			"react-dom@18.2.0",
		}},
		{"project/python/requirements.txt", parseRequirements, []string{
			"Flask@2.0.1",
			"requests@2.25.1",
			"Jinja2@3.0.3",
			"urllib3@1.26.5",
		}},
		{"project/python/poetry.lock", parsePoetryLock, []string{
			"certifi@2023.7.22",
			"pytest@7.4.0 dev",
			"Django@4.2.4",
			"black@23.7.0 dev",
		}},
		{"project/python/Pipfile.lock", parsePipfileLock, []string{
			"urllib3@2.0.4",
			"pytest@7.4.0 dev",
		}},
		{"project/rust/Cargo.lock", parseCargoLock, []string{
			"itoa@1.0.9",
			"serde@1.0.188",
		}},
		{"project/ruby/Gemfile.lock", parseGemfileLock, []string{
			"rails-html-sanitizer@1.6.0",
			"actionpack@7.0.4",
			"loofah@2.21.3",
			"nokogiri@1.15.4",
			"rack@2.2.8",
		}},
		{"project/php/composer.lock", parseComposerLock, []string{
			"guzzlehttp/guzzle@7.8.0 [MIT]",
			"symfony/http-kernel@5.4.30 [MIT]",
			"phpunit/phpunit@9.6.13 dev [BSD-3-Clause]",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			pkgs, err := tc.parse(openTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, summary(pkgs)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestLockfileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		parse func(io.Reader) ([]Package, error)
		input string
	}{
		{"go.mod", parseGoMod, "module x\nrequire (\n  a/b\n"},
		{"package-lock", parsePackageLock, `{"packages": [`},
		{"pnpm", parsePnpmLock, "packages:\n  - [unclosed"},
		{"poetry", parsePoetryLock, "[[package]\nname = 1"},
		{"cargo", parseCargoLock, "[[package]]\nname = "},
		{"composer", parseComposerLock, `{"packages": {"a": 1}}`},
		{"pipfile", parsePipfileLock, `{"default": [1]}`},
		{"yarn berry", parseYarnLock, "__metadata:\n  version: 6\n\"a@npm:1\": [\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.parse(strings.NewReader(tc.input)); err == nil {
				t.Errorf("%s: no error for malformed input", tc.name)
			}
		})
	}
}

// TestLineTooLong checks that every line-based parser refuses a line past
// maxControlLine, naming it, instead of buffering it.
func TestLineTooLong(t *testing.T) {
	t.Parallel()
	long := "x: " + strings.Repeat("a", maxControlLine) + "\n"
	python := func(r io.Reader) ([]Package, error) {
		_, _, err := parsePythonMetadata(r)
		return nil, err
	}
	for _, tc := range []struct {
		name  string
		parse func(io.Reader) ([]Package, error)
	}{
		{"dpkg", func(r io.Reader) ([]Package, error) { return parseDpkgStatus(r, false) }},
		{"apk", parseApkInstalled},
		{"python", python},
		{"Gemfile.lock", parseGemfileLock},
		{"requirements", parseRequirements},
		{"yarn", parseYarnLock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.parse(strings.NewReader("Name: a\n" + long))
			if !errors.Is(err, errLineTooLong) || !strings.Contains(err.Error(), "line 2: ") {
				t.Errorf("error %v, want line 2 too long", err)
			}
		})
	}
}
