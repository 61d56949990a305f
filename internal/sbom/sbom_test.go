package sbom

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

var update = flag.Bool("update", false, "rewrite the golden SBOMs in testdata/")

var fixedOptions = Options{
	ToolVersion: "0.0.0-test",
	Now:         func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	NewUUID:     func() string { return "00000000-0000-4000-8000-000000000000" },
}

// goldenCase scans a target and compares both formats with the files in
// testdata/<name>.cdx.json and testdata/<name>.spdx.json.
type goldenCase struct {
	name   string
	target func(t *testing.T) inventory.Target
	// shown replaces the target's temporary path in the SBOM.
	shown string
}

func imageFile(write func(t *testing.T, p string, img v1.Image), img func(testing.TB) v1.Image) func(t *testing.T) inventory.Target {
	return func(t *testing.T) inventory.Target {
		p := filepath.Join(t.TempDir(), "image")
		write(t, p, img(t))
		return inventory.Target{Kind: inventory.KindDockerArchive, Value: p}
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []goldenCase{
		{
			name:  "debian-docker-archive",
			shown: "shop.tar",
			target: imageFile(func(t *testing.T, p string, img v1.Image) {
				registrytest.WriteDockerArchive(t, p, "shop/app:1.0", img)
			}, registrytest.DebianImage),
		},
		{
			name:  "distroless-oci-layout",
			shown: "distroless",
			target: func(t *testing.T) inventory.Target {
				d := t.TempDir()
				registrytest.WriteLayout(t, d, registrytest.DistrolessImage(t), "nonroot")
				return inventory.Target{Kind: inventory.KindOCIDir, Value: d}
			},
		},
		{
			name:  "alpine-oci-archive",
			shown: "alpine.tar",
			target: func(t *testing.T) inventory.Target {
				p := filepath.Join(t.TempDir(), "alpine.tar")
				registrytest.WriteOCIArchive(t, p, registrytest.AlpineImage(t), "3.19")
				return inventory.Target{Kind: inventory.KindOCIArchive, Value: p}
			},
		},
		{
			name:  "lockfiles-dir",
			shown: "project",
			target: func(t *testing.T) inventory.Target {
				return inventory.Target{Kind: inventory.KindDir, Value: "../inventory/testdata/project"}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inv, err := inventory.Collect(context.Background(), tc.target(t), inventory.Options{})
			if err != nil {
				t.Fatal(err)
			}
			inv.Source.Name = tc.shown
			for _, f := range Formats() {
				o := fixedOptions
				o.Format = f
				var buf bytes.Buffer
				if err := Write(&buf, inv, o); err != nil {
					t.Fatal(err)
				}
				validate(t, f, buf.Bytes(), len(inv.Packages))
				ext := map[Format]string{CycloneDX: ".cdx.json", SPDXJSON: ".spdx.json"}[f]
				golden := filepath.Join("testdata", tc.name+ext)
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/sbom -update to create it)", err)
				}
				if d := cmp.Diff(string(want), buf.String()); d != "" {
					t.Errorf("%s differs (-want +got; go test ./internal/sbom -update rewrites it):\n%s", golden, d)
				}
			}
		})
	}
}

// validate reads the document back with the format's own library and
// checks its structure: every package present once, with a purl, and
// every reference resolvable.
func validate(t *testing.T, f Format, b []byte, pkgs int) {
	t.Helper()
	switch f {
	case CycloneDX:
		var bom cdx.BOM
		if err := cdx.NewBOMDecoder(bytes.NewReader(b), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
			t.Fatalf("CycloneDX does not decode: %v", err)
		}
		if bom.SpecVersion != cdx.SpecVersion1_5 {
			t.Errorf("spec version %v", bom.SpecVersion)
		}
		refs := map[string]bool{bom.Metadata.Component.BOMRef: true}
		libs := 0
		for _, c := range *bom.Components {
			if refs[c.BOMRef] {
				t.Errorf("duplicate bom-ref %s", c.BOMRef)
			}
			refs[c.BOMRef] = true
			if c.Type == cdx.ComponentTypeLibrary {
				libs++
				if c.PackageURL == "" {
					t.Errorf("component %s without purl", c.Name)
				}
			}
		}
		if libs != pkgs {
			t.Errorf("%d library components for %d packages", libs, pkgs)
		}
		seen := 0
		for _, d := range *bom.Dependencies {
			if !refs[d.Ref] {
				t.Errorf("dependency of unknown ref %s", d.Ref)
			}
			if d.Dependencies != nil {
				for _, r := range *d.Dependencies {
					if !refs[r] {
						t.Errorf("dependency on unknown ref %s", r)
					}
					seen++
				}
			}
		}
		if want := len(*bom.Components); seen != want {
			t.Errorf("dependency graph reaches %d components of %d", seen, want)
		}
	case SPDXJSON:
		doc, err := spdxjson.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("SPDX does not parse: %v", err)
		}
		if err := spdxlib.ValidateDocument(doc); err != nil {
			t.Errorf("SPDX document invalid: %v", err)
		}
		if doc.SPDXVersion != "SPDX-2.3" {
			t.Errorf("version %s", doc.SPDXVersion)
		}
		libs := 0
		for _, p := range doc.Packages {
			if p.PrimaryPackagePurpose != "LIBRARY" {
				continue
			}
			libs++
			if len(p.PackageExternalReferences) != 1 || !strings.HasPrefix(p.PackageExternalReferences[0].Locator, "pkg:") {
				t.Errorf("package %s without purl", p.PackageName)
			}
		}
		if libs != pkgs {
			t.Errorf("%d packages for %d", libs, pkgs)
		}
		if len(doc.Relationships) != len(doc.Packages) {
			t.Errorf("%d relationships for %d packages: each package must be reached once", len(doc.Relationships), len(doc.Packages))
		}
	}
}

func TestLicenseExpressions(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"MIT":                                  true,
		"Apache-2.0":                           true,
		"GPL-2.0-or-later":                     true,
		"GPL-2+":                               true,
		"MIT AND BSD-2-Clause":                 true,
		"(MIT OR Apache-2.0)":                  true,
		"GPL-2.0 WITH Classpath-exception-2.0": true,
		"Apache 2.0":                           false,
		"MIT License":                          false,
		"MIT AND":                              false,
		"and MIT":                              false,
		"":                                     false,
	} {
		if got := isLicenseExpression(in); got != want {
			t.Errorf("isLicenseExpression(%q) = %v, want %v", in, got, want)
		}
	}
	l := newLicenseRefs()
	got := l.declared([]string{"Apache 2.0", "MIT OR BSD-3-Clause", "Zlib"})
	if want := "LicenseRef-Apache-2.0 AND (MIT OR BSD-3-Clause) AND Zlib"; got != want {
		t.Errorf("declared = %q, want %q", got, want)
	}
	if o := l.others(); len(o) != 1 || o[0].ExtractedText != "Apache 2.0" {
		t.Errorf("extracted licensing info %+v", o)
	}
}

func TestUnknownFormat(t *testing.T) {
	t.Parallel()
	err := Write(&bytes.Buffer{}, &inventory.Inventory{}, Options{Format: "xml"})
	if err == nil || !strings.Contains(err.Error(), `unknown format "xml" for SBOM`) {
		t.Errorf("err = %v", err)
	}
}

func TestImagePURL(t *testing.T) {
	t.Parallel()
	const digest = "sha256:0b1f5a4d44a3b1e6c1b2e4e4b0b6c7a61d3a6c3f8d6e5e4a1f3b0c9d8e7f6a5b"
	for _, tt := range []struct {
		name string
		src  inventory.Source
		want string
	}{
		{"registry with port, tag and digest",
			inventory.Source{Kind: inventory.KindRegistry, Name: "reg:5000/team/App:1@" + digest, Digest: digest, Arch: "amd64"},
			"pkg:oci/app@" + digest + "?arch=amd64&repository_url=reg:5000%2Fteam%2FApp"},
		{"registry without tag",
			inventory.Source{Kind: inventory.KindRegistry, Name: "reg:5000/team/app", Digest: digest},
			"pkg:oci/app@" + digest + "?repository_url=reg:5000%2Fteam%2Fapp"},
		{"archive repo tag with a port",
			inventory.Source{Kind: inventory.KindDockerArchive, Name: "app.tar", ImageID: digest, RepoTags: []string{"localhost:5000/app:1.0"}},
			"pkg:oci/app@" + digest},
		{"archive repo tag with a port and no tag",
			inventory.Source{Kind: inventory.KindDockerArchive, Name: "app.tar", ImageID: digest, RepoTags: []string{"localhost:5000/app"}},
			"pkg:oci/app@" + digest},
		{"archive without repo tags",
			inventory.Source{Kind: inventory.KindDockerArchive, Name: "/tmp/app.tar", ImageID: digest},
			"pkg:oci/app.tar@" + digest},
		{"not an image", inventory.Source{Kind: inventory.KindDir, Name: "."}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := imagePURL(tt.src); got != tt.want {
				t.Errorf("imagePURL = %q, want %q", got, tt.want)
			}
		})
	}
}
