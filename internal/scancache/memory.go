package scancache

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultMaxEntries bounds a Memory cache made with maxEntries <= 0.
const DefaultMaxEntries = 4096

// Memory is the in-process cache: a bounded LRU with per-entry expiry, and
// one computation per key at a time. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	max     int
	lru     *list.List // of *entry, most recently used first
	entries map[string]*list.Element
	group   singleflight.Group
	now     func() time.Time

	hits, computes, waits atomic.Uint64
}

type entry struct {
	key     string
	value   []byte
	expires time.Time
}

// NewMemory returns an in-process cache holding at most maxEntries values
// (DefaultMaxEntries when <= 0); the least recently used goes first.
func NewMemory(maxEntries int) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Memory{max: maxEntries, lru: list.New(), entries: map[string]*list.Element{}, now: time.Now}
}

// Get returns the live value under key.
func (m *Memory) Get(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry)
	if !m.now().Before(e.expires) {
		m.lru.Remove(el)
		delete(m.entries, key)
		return nil, false
	}
	m.lru.MoveToFront(el)
	return e.value, true
}

// Set stores value under key for ttl (a ttl <= 0 stores nothing).
func (m *Memory) Set(key string, value []byte, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	exp := m.now().Add(ttl)
	if el, ok := m.entries[key]; ok {
		e := el.Value.(*entry)
		e.value, e.expires = value, exp
		m.lru.MoveToFront(el)
		return
	}
	m.entries[key] = m.lru.PushFront(&entry{key: key, value: value, expires: exp})
	for m.lru.Len() > m.max {
		last := m.lru.Back()
		m.lru.Remove(last)
		delete(m.entries, last.Value.(*entry).key)
	}
}

// Len is the number of values held (expired ones included until touched).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// Do implements Cache. Callers of one key share one computation; a caller
// whose ctx ends stops waiting (the computation goes on for the others).
func (m *Memory) Do(ctx context.Context, key string, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	if v, ok := m.Get(key); ok {
		m.hits.Add(1)
		return v, nil
	}
	ch := m.group.DoChan(key, func() (any, error) {
		if v, ok := m.Get(key); ok {
			return v, nil
		}
		m.computes.Add(1)
		// The computation outlives a caller that gives up, for the
		// others: it keeps the first caller's values but not its
		// cancellation, so compute must bound its own time.
		v, err := compute(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		m.Set(key, v, ttl)
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Shared {
			m.waits.Add(1)
		}
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]byte), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Status implements Cache.
func (m *Memory) Status() Status {
	return Status{Backend: "memory", Hits: m.hits.Load(), Computes: m.computes.Load(), Waits: m.waits.Load()}
}

// Close implements Cache; it drops every value.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Init()
	clear(m.entries)
	return nil
}
