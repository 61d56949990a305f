package webhook

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RegistryResolver resolves tags to digests with a HEAD request on the
// manifest (the Docker-Content-Digest the registry reports, which for a
// multi-platform image is the index's digest — what a pin must name).
// Answers are cached for TTL: tags move, but not from one Pod of a
// rollout to the next.
type RegistryResolver struct {
	// Keychain supplies registry credentials (authn.DefaultKeychain: the
	// docker config of the user running tollgate); nil = anonymous.
	Keychain authn.Keychain
	// Transport is the HTTP transport (nil: remote.DefaultTransport).
	Transport http.RoundTripper
	// TTL is how long a resolved digest is reused (0: one minute).
	TTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedDigest
}

type cachedDigest struct {
	digest  string
	expires time.Time
}

// maxCached bounds the cache; past it, expired entries are dropped and,
// if that is not enough, the whole cache.
const maxCached = 4096

var _ Resolver = (*RegistryResolver)(nil)

// Digest returns the digest ("sha256:…") the registry serves for image,
// which must name a tag.
func (r *RegistryResolver) Digest(ctx context.Context, image string) (string, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	r.mu.Lock()
	if c, ok := r.cache[image]; ok && now().Before(c.expires) {
		r.mu.Unlock()
		return c.digest, nil
	}
	r.mu.Unlock()

	// WithDefaultTag("") keeps a missing tag missing: pinning "nginx" to
	// what latest points at would hide an untagged image from the tag rules.
	ref, err := name.NewTag(image, name.WithDefaultTag(""))
	if err != nil {
		return "", fmt.Errorf("parsing %q: %w", image, err)
	}
	if ref.TagStr() == "" {
		return "", fmt.Errorf("image %q has no tag to resolve", image)
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	if r.Keychain != nil {
		opts = append(opts, remote.WithAuthFromKeychain(r.Keychain))
	}
	if r.Transport != nil {
		opts = append(opts, remote.WithTransport(r.Transport))
	}
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", image, err)
	}
	d := desc.Digest.String()

	ttl := r.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache == nil {
		r.cache = map[string]cachedDigest{}
	}
	if len(r.cache) >= maxCached {
		t := now()
		for k, c := range r.cache {
			if !t.Before(c.expires) {
				delete(r.cache, k)
			}
		}
		if len(r.cache) >= maxCached {
			clear(r.cache)
		}
	}
	r.cache[image] = cachedDigest{digest: d, expires: now().Add(ttl)}
	return d, nil
}
