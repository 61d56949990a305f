package image

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Options control how images are opened. The zero value is usable: no
// credentials, TLS verified, the host's architecture on linux, spill files
// in the system temp directory.
type Options struct {
	// Keychain supplies registry credentials; nil means anonymous. The CLI
	// passes authn.DefaultKeychain (Docker config and credential helpers).
	Keychain authn.Keychain
	// InsecureSkipTLSVerify allows plain HTTP and unverified TLS to the
	// registry. Only for local test registries.
	InsecureSkipTLSVerify bool
	// Platform selects the image from a multi-platform index.
	Platform *v1.Platform
	// TempDir receives spill files ("" = os.TempDir()).
	TempDir string
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

func (o Options) platform() v1.Platform {
	if o.Platform != nil {
		return *o.Platform
	}
	return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

// nameOptions are the reference-parsing options: plain HTTP allowed when
// the user asked for --insecure. (Loopback registries — localhost,
// 127.0.0.0/8, ::1 — are reached over plain HTTP by go-containerregistry
// whatever the options, as docker does.)
func (o Options) nameOptions(extra ...name.Option) []name.Option {
	if o.InsecureSkipTLSVerify {
		extra = append(extra, name.Insecure)
	}
	return extra
}

// NameOptions are the reference-parsing options of o, for callers that
// parse references themselves (signature lookups, the advisory DB
// artifact).
func NameOptions(o Options) []name.Option { return o.nameOptions() }

// RemoteOptions are the options of every registry call tollgate makes:
// credentials from the keychain (anonymous when nil), its transport (TLS
// verification off with --insecure), its user agent. Plain HTTP goes only
// to loopback registries unless o is insecure: without this guard
// go-containerregistry would also fall back to HTTP for private (RFC 1918)
// addresses and *.local names.
func RemoteOptions(ctx context.Context, o Options) []remote.Option { return o.remoteOptions(ctx) }

func (o Options) remoteOptions(ctx context.Context) []remote.Option {
	keychain := o.Keychain
	if keychain == nil {
		keychain = authn.NewMultiKeychain() // anonymous
	}
	transport := o.Transport
	if transport == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		if o.InsecureSkipTLSVerify {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
		}
		transport = t
	}
	if !o.InsecureSkipTLSVerify {
		transport = loopbackHTTPOnly{transport}
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(keychain),
		remote.WithTransport(transport),
		remote.WithUserAgent("tollgate"),
	}
}

// loopbackHTTPOnly refuses plain HTTP to anything but a loopback address.
type loopbackHTTPOnly struct{ rt http.RoundTripper }

func (l loopbackHTTPOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !isLoopback(r.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain HTTP to %s (only loopback registries are reached without TLS; --insecure allows it)", r.URL.Host)
	}
	return l.rt.RoundTrip(r)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Digest returns the manifest digest ("sha256:…") a registry serves for
// ref, which must name a tag: a HEAD request, answered with the
// Docker-Content-Digest (for a multi-platform image, the index's digest —
// what a pin must name). A reference without a tag is an error, not
// "latest": pinning "nginx" to what latest points at would hide an
// untagged image from the tag rules.
func Digest(ctx context.Context, ref string, o Options) (string, error) {
	tag, err := name.NewTag(ref, o.nameOptions(name.WithDefaultTag(""))...)
	if err != nil {
		return "", fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	if tag.TagStr() == "" {
		return "", fmt.Errorf("image %q has no tag to resolve", ref)
	}
	desc, err := remote.Head(tag, o.remoteOptions(ctx)...)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// OpenRemote opens an image in a registry. A reference without a tag means
// the "latest" tag, as with docker pull.
func OpenRemote(ctx context.Context, ref string, o Options) (*Image, error) {
	r, err := name.ParseReference(ref, o.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	ropts := append(o.remoteOptions(ctx), remote.WithPlatform(o.platform()))
	desc, err := remote.Get(r, ropts...)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	ri, err := desc.Image() // resolves an index to the wanted platform
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	raw, err := ri.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("fetching config of %s: %w", ref, err)
	}
	img, err := newImage(ref, raw)
	if err != nil {
		return nil, err
	}
	mdig, err := ri.Digest()
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	img.ManifestDigest = mdig.String()
	if tag, ok := r.(name.Tag); ok {
		img.RepoTags = []string{tag.Name()}
	}
	img.RepoDigests = []string{r.Context().Name() + "@" + desc.Digest.String()}
	m, err := ri.Manifest()
	if err != nil {
		return nil, fmt.Errorf("fetching manifest of %s: %w", ref, err)
	}
	if err := img.setLayers(m, func(d v1.Hash) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) {
			l, err := ri.LayerByDigest(d)
			if err != nil {
				return nil, err
			}
			return l.Compressed() // verified against d while read
		}
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return img, nil
}
