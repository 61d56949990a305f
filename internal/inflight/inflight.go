// Package inflight bounds the request bytes a server holds at once. A
// request takes a share of a Budget for its body before reading it and
// gives it back when its answer is written; a request that does not fit is
// refused at once (the servers answer 429 with Retry-After, which the
// kube-apiserver retries) instead of queueing memory. After a burst of large
// requests drains, the memory they used is handed back to the operating
// system.
package inflight

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"sync"
	"time"
)

// ErrBusy is returned when a request's body does not fit in the budget.
var ErrBusy = errors.New("too many bytes in flight")

// RetryAfter is the Retry-After value (seconds) of a refused request.
const RetryAfter = "1"

// chunk is how much more a body of unknown length reserves at a time.
const chunk = 64 << 10

// freeAbove is the peak in flight after which an idle budget returns
// memory to the OS: large requests, not a stream of small ones.
const freeAbove = 4 << 20

// Budget is the number of body bytes requests may hold together. The zero
// value is not usable; use New. A nil *Budget admits everything.
type Budget struct {
	max int64

	mu       sync.Mutex
	used     int64
	peak     int64     // highest used since the last give-back
	lastFree time.Time // when memory was last given back
	freeing  bool
}

// New returns a budget of max bytes (max must be positive).
func New(max int64) *Budget { return &Budget{max: max} }

// Max returns the budget's size.
func (b *Budget) Max() int64 { return b.max }

// Lease is one request's share of a Budget.
type Lease struct {
	b *Budget
	n int64
}

// Lease starts an empty share.
func (b *Budget) Lease() *Lease { return &Lease{b: b} }

// Grow tries to add n bytes to the share; it reports false, holding
// nothing more, when they do not fit.
func (l *Lease) Grow(n int64) bool {
	if l.b == nil || n <= 0 {
		return true
	}
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	l.n += n
	return true
}

// Release gives the share back. When that leaves the budget idle after a
// peak of large requests, the heap they left behind is returned to the OS
// (at most once a second, off the request's path).
func (l *Lease) Release() {
	if l.b == nil || l.n == 0 {
		return
	}
	b := l.b
	b.mu.Lock()
	b.used -= l.n
	l.n = 0
	free := b.used == 0 && b.peak >= freeAbove && !b.freeing && time.Since(b.lastFree) > time.Second
	if free {
		b.freeing, b.peak = true, 0
	}
	b.mu.Unlock()
	if free {
		go func() {
			debug.FreeOSMemory()
			b.mu.Lock()
			b.freeing, b.lastFree = false, time.Now()
			b.mu.Unlock()
		}()
	}
}

// ReadBody reads r's body, at most limit bytes, into buf, holding the
// bytes in lease: Content-Length up front, a body of unknown length as it
// arrives. It returns ErrBusy when the body does not fit in the budget, and
// an *http.MaxBytesError when it is longer than limit.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, lease *Lease, buf *bytes.Buffer) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength > 0 {
		// One byte more than announced, to see the end of the body.
		if !lease.Grow(r.ContentLength + 1) {
			return nil, ErrBusy
		}
		buf.Grow(int(r.ContentLength) + 1)
		_, err := buf.ReadFrom(body)
		return buf.Bytes(), err
	}
	held := int64(0)
	for {
		if int64(buf.Len())+chunk > held {
			if !lease.Grow(chunk) {
				return nil, ErrBusy
			}
			held += chunk
		}
		buf.Grow(chunk)
		n, err := body.Read(buf.AvailableBuffer()[:chunk])
		buf.Write(buf.AvailableBuffer()[:n])
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
