package scancache

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// RedisOptions configure NewRedis.
type RedisOptions struct {
	// URL is redis://[USER[:PASSWORD]@]HOST:PORT/DB, or rediss://… for
	// TLS.
	URL string
	// PasswordFile holds the password (one line; read again for every new
	// connection, so a rotated Secret is picked up). It overrides a
	// password in URL.
	PasswordFile string
	// CAFile verifies a rediss:// server against this CA (PEM) instead of
	// the system roots.
	CAFile string
	// Prefix starts every key and channel (default "tollgate:").
	Prefix string
	// Lease is how long a computation's lock lives without renewal
	// (default 30 s); the holder renews it every Lease/3, so another
	// replica takes over only when the holder is gone.
	Lease time.Duration
	// RetryAfter is how long the cache serves from its in-process cache
	// after Redis failed before trying Redis again (default 2 s).
	RetryAfter time.Duration
	// Timeout bounds each connection attempt and command (default 500 ms),
	// so that a Redis that went away costs a request little.
	Timeout time.Duration
	// FlightTimeout bounds one key's computation and its wait for another
	// replica's, whatever the callers' deadlines (default 5 min): a caller
	// that gives up leaves the work to finish for the next one.
	FlightTimeout time.Duration
	// Local is the in-process cache in front of Redis and the fallback
	// while Redis is unreachable (default NewMemory(0)).
	Local *Memory
	// Logger gets one line when Redis becomes unreachable and one when it
	// is back (nil: discarded).
	Logger *slog.Logger
}

// Redis is a Cache shared through Redis by every process that uses the same
// server, database and prefix. Do looks in the in-process cache, then in
// Redis; a missing value is computed by the one caller that takes the lock
// (SET NX PX with a random token, renewed while computing, released only
// by its holder); the others subscribe to the key's channel and wait for
// the holder's PUBLISH, or for the lease to run out, within their ctx.
// When Redis cannot be reached, Do serves from the in-process cache and
// Status says so; Redis is tried again after RetryAfter.
type Redis struct {
	rdb   *redis.Client
	local *Memory
	o     RedisOptions
	log   *slog.Logger
	group singleflight.Group

	mu        sync.Mutex
	downUntil time.Time
	sharing   bool
	lastErr   string

	hits, computes, waits, fallbacks atomic.Uint64
}

// redisError marks a failure of Redis itself (not of compute or ctx):
// Do falls back to the in-process cache on it.
type redisError struct{ err error }

func (e *redisError) Error() string { return e.err.Error() }
func (e *redisError) Unwrap() error { return e.err }

// NewRedis connects to Redis as o says. Only bad options are errors: a
// Redis that does not answer yet leaves the cache working in process.
func NewRedis(ctx context.Context, o RedisOptions) (*Redis, error) {
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %q: want redis://HOST:PORT/DB or rediss://HOST:PORT/DB", redactURL(o.URL))
	}
	if o.Prefix == "" {
		o.Prefix = "tollgate:"
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.FlightTimeout <= 0 {
		o.FlightTimeout = 5 * time.Minute
	}
	if o.Local == nil {
		o.Local = NewMemory(0)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	// A failure falls back at once; RetryAfter paces the next try.
	opt.MaxRetries, opt.DialerRetries = -1, 1
	if o.PasswordFile != "" {
		pw, err := readPassword(o.PasswordFile)
		if err != nil {
			return nil, err
		}
		user := opt.Username
		last := pw
		var mu sync.Mutex
		opt.CredentialsProvider = func() (string, string) {
			mu.Lock()
			defer mu.Unlock()
			if p, err := readPassword(o.PasswordFile); err == nil {
				last = p
			}
			return user, last
		}
	}
	if o.CAFile != "" {
		if opt.TLSConfig == nil {
			return nil, fmt.Errorf("a CA file is for rediss:// URLs, not %q", redactURL(o.URL))
		}
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the Redis CA: %w", err)
		}
		opt.TLSConfig.RootCAs = x509.NewCertPool()
		if !opt.TLSConfig.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", o.CAFile)
		}
	}
	if opt.TLSConfig != nil {
		opt.TLSConfig.MinVersion = tls.VersionTLS12
	}
	r := &Redis{rdb: redis.NewClient(opt), local: o.Local, o: o, log: o.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := r.rdb.Ping(pctx).Err(); err != nil {
		r.fail(err)
	} else {
		r.ok()
	}
	return r, nil
}

func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the Redis password: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// redactURL hides a password in a Redis URL for messages.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		return scheme + "://***@" + rest[at+1:]
	}
	return s
}

// Do implements Cache.
func (r *Redis) Do(ctx context.Context, key string, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	if v, ok := r.local.Get(key); ok {
		r.hits.Add(1)
		return v, nil
	}
	if !r.available() {
		r.fallbacks.Add(1)
		return r.local.Do(ctx, key, ttl, compute)
	}
	// One flight per key in this process: its goroutines share one lock
	// attempt and one subscription.
	ch := r.group.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.FlightTimeout)
		defer cancel()
		return r.shared(fctx, key, ttl, compute)
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if res.Err == nil {
		return res.Val.([]byte), nil
	}
	if _, ok := errors.AsType[*redisError](res.Err); ok {
		r.fallbacks.Add(1)
		return r.local.Do(ctx, key, ttl, compute)
	}
	return nil, res.Err
}

func (r *Redis) valueKey(key string) string { return r.o.Prefix + "v:" + key }
func (r *Redis) lockKey(key string) string  { return r.o.Prefix + "lock:" + key }
func (r *Redis) channel(key string) string  { return r.o.Prefix + "done:" + key }

// shared finds key's value in Redis or computes it under the key's lock.
// fctx bounds the flight and carries the first caller's values.
func (r *Redis) shared(fctx context.Context, key string, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	for {
		v, err := r.rdb.Get(fctx, r.valueKey(key)).Bytes()
		switch {
		case err == nil:
			r.ok()
			r.hits.Add(1)
			r.local.Set(key, v, ttl)
			return v, nil
		case !errors.Is(err, redis.Nil):
			return nil, r.failed(fctx, err)
		}
		r.ok()
		token, err := newToken()
		if err != nil {
			return nil, err
		}
		got, err := r.rdb.SetNX(fctx, r.lockKey(key), token, r.o.Lease).Result()
		if err != nil {
			return nil, r.failed(fctx, err)
		}
		if got {
			return r.computeHolding(fctx, key, token, ttl, compute)
		}
		r.waits.Add(1)
		if err := r.wait(fctx, key); err != nil {
			return nil, err
		}
	}
}

// failed turns a Redis command's error into a redisError (and marks Redis
// down), unless the flight's own deadline is what ended it.
func (r *Redis) failed(fctx context.Context, err error) error {
	if fctx.Err() != nil {
		return context.Cause(fctx)
	}
	r.fail(err)
	return &redisError{err}
}

// maxWaitStep bounds one wait: a waiter looks at the value and the lock at
// least this often, so it notices a Redis that went away or a holder whose
// PUBLISH was lost without polling in a loop.
const maxWaitStep = time.Second

// wait blocks until the holder of key's lock publishes, the lock's lease
// runs out, maxWaitStep passes or ctx ends.
func (r *Redis) wait(ctx context.Context, key string) error {
	ps := r.rdb.Subscribe(ctx, r.channel(key))
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		return r.failed(ctx, err)
	}
	// Subscribed: a PUBLISH from now on is seen. Look again, in case the
	// holder finished before.
	n, err := r.rdb.Exists(ctx, r.valueKey(key)).Result()
	if err != nil {
		return r.failed(ctx, err)
	}
	if n > 0 {
		return nil
	}
	left, err := r.rdb.PTTL(ctx, r.lockKey(key)).Result()
	if err != nil {
		return r.failed(ctx, err)
	}
	if left <= 0 { // no lock (-2) any more: take it or read the value
		return nil
	}
	step := min(left+10*time.Millisecond, maxWaitStep)
	t := time.NewTimer(step)
	defer t.Stop()
	select {
	case <-ps.Channel():
	case <-t.C:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// Scripts run atomically in Redis: touch the lock only while it still
// holds our token (a holder whose lease ran out must not free the next
// holder's lock).
var (
	releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	renewScript   = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
)

// computeHolding runs compute while holding key's lock, renewing its lease,
// then stores the value, releases the lock and wakes the waiters.
func (r *Redis) computeHolding(fctx context.Context, key, token string, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	lock := r.lockKey(key)
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(r.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.Background(), r.o.Timeout)
				renewScript.Run(rctx, r.rdb, []string{lock}, token, r.o.Lease.Milliseconds())
				cancel()
			}
		}
	}()
	r.computes.Add(1)
	v, err := compute(fctx)
	close(stop)
	<-renewed

	// Store and release even when the caller's time is up: the waiters
	// need the value.
	sctx, cancel := context.WithTimeout(context.Background(), 2*r.o.Timeout)
	defer cancel()
	if err == nil && ttl > 0 { // as in Memory, a ttl <= 0 stores nothing (Redis would keep it forever)
		r.local.Set(key, v, ttl)
		if serr := r.rdb.Set(sctx, r.valueKey(key), v, ttl).Err(); serr != nil {
			r.fail(serr) // the value is good; only sharing it failed
		}
	}
	if rerr := releaseScript.Run(sctx, r.rdb, []string{lock}, token).Err(); rerr != nil && !errors.Is(rerr, redis.Nil) {
		r.fail(rerr)
	}
	r.rdb.Publish(sctx, r.channel(key), "1")
	return v, err
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// available reports whether Redis should be tried now.
func (r *Redis) available() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !time.Now().Before(r.downUntil)
}

func (r *Redis) fail(err error) {
	msg := describe(err)
	r.mu.Lock()
	was := r.sharing
	r.sharing, r.lastErr = false, msg
	r.downUntil = time.Now().Add(r.o.RetryAfter)
	r.mu.Unlock()
	if was {
		r.log.Warn("scan cache: Redis unreachable, using the in-process cache", "error", msg, "retry_after", r.o.RetryAfter)
	}
}

func (r *Redis) ok() {
	r.mu.Lock()
	was := r.sharing
	r.sharing = true
	r.mu.Unlock()
	if !was {
		r.log.Info("scan cache: using Redis", "url", redactURL(r.o.URL))
	}
}

// describe says what went wrong with Redis in a few words, without Go
// type names.
func describe(err error) string {
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Err != nil {
		return "cannot reach Redis: " + oe.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "Redis did not answer in time"
	}
	return "Redis: " + err.Error()
}

// Status implements Cache.
func (r *Redis) Status() Status {
	l := r.local.Status()
	r.mu.Lock()
	defer r.mu.Unlock()
	return Status{
		Backend: "redis", Shared: r.sharing, LastError: r.lastErr,
		// The in-process cache works only on fallback calls: its
		// counts are this cache's too.
		Hits: r.hits.Load() + l.Hits, Computes: r.computes.Load() + l.Computes,
		Waits: r.waits.Load() + l.Waits, Fallbacks: r.fallbacks.Load(),
	}
}

// Close implements Cache.
func (r *Redis) Close() error {
	if err := r.rdb.Close(); err != nil {
		return fmt.Errorf("closing the Redis client: %w", err)
	}
	return nil
}
