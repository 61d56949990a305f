package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/image"
)

// RegistryResolver resolves tags to digests at the registry with
// image.Digest (the registry access every command shares). Answers are
// cached for TTL: tags move, but not from one Pod of a rollout to the next.
type RegistryResolver struct {
	// Registry says how registries are reached: credentials
	// (authn.DefaultKeychain: the docker config of the user running
	// tollgate; nil = anonymous), transport, insecure registries.
	Registry image.Options
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

// Digest returns the digest ("sha256:…") the registry serves for img,
// which must name a tag.
func (r *RegistryResolver) Digest(ctx context.Context, img string) (string, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	r.mu.Lock()
	if c, ok := r.cache[img]; ok && now().Before(c.expires) {
		r.mu.Unlock()
		return c.digest, nil
	}
	r.mu.Unlock()

	d, err := image.Digest(ctx, img, r.Registry)
	if err != nil {
		return "", err
	}

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
	r.cache[img] = cachedDigest{digest: d, expires: now().Add(ttl)}
	return d, nil
}
