// Package scancache stores the results of expensive, deterministic work —
// an image's vulnerability scan, a signature check — so that it is done once
// per input: once per process with the in-process cache (Memory, the
// default), once per cluster with Redis shared by every replica of tollgate
// serve. Results are opaque bytes under keys built by ScanKey and
// SignatureKey; Do computes a missing value while holding a lease-bound lock,
// and callers that find the lock taken wait for the holder's result instead
// of computing it again.
package scancache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Cache is what admission uses: Memory or Redis.
type Cache interface {
	// Do returns the value stored under key; when there is none it runs
	// compute, stores its result for ttl and returns it. Callers sharing
	// the cache (goroutines, or replicas sharing a Redis) that ask for the
	// same key meanwhile wait for that one computation, until ctx ends. An
	// error from compute is returned and not stored. compute keeps ctx's
	// values but not its cancellation (a caller that gives up leaves the
	// result to the others), so it must bound its own time; a ttl <= 0
	// stores nothing.
	Do(ctx context.Context, key string, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error)
	// Status reports what the cache has done, for /metrics and logs.
	Status() Status
	// Close releases connections.
	Close() error
}

// Status counts what a cache did since it was made.
type Status struct {
	// Backend is "memory" or "redis".
	Backend string
	// Shared is false while a Redis cache falls back to its in-process
	// cache because Redis cannot be reached (always false for memory).
	Shared bool
	// Hits are values found (in process or in Redis); Computes the
	// computations this cache ran; Waits the times it waited for another
	// caller's computation; Fallbacks the calls served in process because
	// Redis was unreachable.
	Hits, Computes, Waits, Fallbacks uint64
	// LastError describes the last Redis failure ("" if none).
	LastError string
}

// ScanKey is the key of an image's scan result: the same image scanned
// against the same advisory database gives the same result.
func ScanKey(digest, dbVersion string) string {
	return "scan/" + digest + "/" + dbVersion
}

// SignatureKey is the key of an image's signature verification against a
// set of public keys (given in any order, e.g. as their fingerprints or
// PEM): the result depends on the set, not on how it was listed.
func SignatureKey(digest string, keys []string) string {
	ks := slices.Clone(keys)
	slices.Sort(ks)
	ks = slices.Compact(ks)
	h := sha256.Sum256([]byte(strings.Join(ks, "\x00")))
	return "sig/" + digest + "/" + hex.EncodeToString(h[:16])
}
