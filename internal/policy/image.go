package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Image is a parsed container image reference, as a container runtime
// would resolve it.
type Image struct {
	// Raw is the reference exactly as written in the manifest.
	Raw string
	// Registry is the registry host[:port], lower case, with Docker Hub
	// spelled index.docker.io (docker.io and an absent registry mean it).
	Registry string
	// Repository is the path inside the registry ("library/nginx").
	Repository string
	// Tag is the tag as written; empty when the reference has none. A
	// missing tag stays missing: it is not reported as "latest".
	Tag string
	// Digest is "algorithm:hex" when the reference is pinned, else empty.
	Digest string
}

// ParseImage parses an image reference the way the kubelet's runtime reads
// it: "nginx" is index.docker.io/library/nginx without a tag,
// "registry:5000/app" has a registry port and no tag, "app:1@sha256:…"
// keeps both its tag and its digest.
func ParseImage(ref string) (Image, error) {
	img := Image{Raw: ref}
	if ref == "" {
		return img, fmt.Errorf("empty image reference")
	}
	if strings.TrimSpace(ref) != ref {
		return img, fmt.Errorf("image reference %q has leading or trailing white space", ref)
	}
	base := ref
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		d, err := name.NewDigest(ref)
		if err != nil {
			return img, fmt.Errorf("parsing image reference %q: %w", ref, err)
		}
		img.Digest = d.DigestStr()
		base = ref[:i]
	}
	// WithDefaultTag("") keeps an absent tag absent; the default would be
	// "latest", which would hide the difference the policy reports.
	t, err := name.NewTag(base, name.WithDefaultTag(""))
	if err != nil {
		return img, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	img.Registry = strings.ToLower(t.RegistryStr())
	img.Repository = t.RepositoryStr()
	img.Tag = t.TagStr()
	// go-containerregistry is lenient about the registry and path; hold
	// them to the distribution grammar the runtimes use, so that what we
	// judge is what the kubelet would pull.
	if !registryRE.MatchString(img.Registry) {
		return img, fmt.Errorf("image reference %q: invalid registry %q", ref, img.Registry)
	}
	if !repositoryRE.MatchString(img.Repository) {
		return img, fmt.Errorf("image reference %q: invalid repository path %q", ref, img.Repository)
	}
	return img, nil
}

// The reference grammar of github.com/distribution/reference (what
// containerd and CRI-O parse with), written out for host[:port] and path.
var (
	registryRE   = regexp.MustCompile(`^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])(?:\.(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))*|\[[0-9a-f:.]+\])(?::[0-9]+)?$`)
	repositoryRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
)

// Name is registry/repository, without tag or digest.
func (i Image) Name() string { return i.Registry + "/" + i.Repository }

// NormalizeRegistry returns the canonical spelling of a registry host[:port]
// as it appears in a policy: lower case, "docker.io" as "index.docker.io".
// Anything with a path, scheme or tag is refused.
func NormalizeRegistry(s string) (string, error) {
	if s == "" || strings.ContainsAny(s, "/@ \t") || strings.Contains(s, "://") {
		return "", fmt.Errorf("registry %q must be a host or host:port, without scheme or path", s)
	}
	r, err := name.NewRegistry(strings.ToLower(s), name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("registry %q: %w", s, err)
	}
	return r.RegistryStr(), nil
}
