package scancache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemoryDoComputesOnce(t *testing.T) {
	m := NewMemory(0)
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) ([]byte, error) {
		calls.Add(1)
		<-release
		return []byte("report"), nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			v, err := m.Do(context.Background(), "k", time.Minute, compute)
			if err == nil && string(v) != "report" {
				err = fmt.Errorf("value %q", v)
			}
			errs <- err
		})
	}
	// Let the callers pile up on the one computation.
	for m.Status().Computes == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("computed %d times, want 1", n)
	}
	if _, err := m.Do(context.Background(), "k", time.Minute, compute); err != nil {
		t.Fatal(err)
	}
	st := m.Status()
	if st.Computes != 1 || st.Hits < 1 || st.Backend != "memory" || st.Shared {
		t.Errorf("status %+v", st)
	}
}

func TestMemoryExpiryAndBound(t *testing.T) {
	m := NewMemory(2)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	m.Set("a", []byte("1"), time.Second)
	if v, ok := m.Get("a"); !ok || string(v) != "1" {
		t.Fatalf("Get a = %q %v", v, ok)
	}
	now = now.Add(time.Second)
	if _, ok := m.Get("a"); ok {
		t.Error("a outlived its ttl")
	}
	m.Set("zero", []byte("x"), 0)
	if _, ok := m.Get("zero"); ok {
		t.Error("a ttl of 0 stored a value")
	}
	m.Set("b", []byte("2"), time.Hour)
	m.Set("c", []byte("3"), time.Hour)
	m.Get("b") // c is now the least recently used
	m.Set("d", []byte("4"), time.Hour)
	if m.Len() != 2 {
		t.Errorf("Len = %d, want the bound 2", m.Len())
	}
	if _, ok := m.Get("c"); ok {
		t.Error("the least recently used entry was kept")
	}
	for _, k := range []string{"b", "d"} {
		if _, ok := m.Get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
}

func TestMemoryErrorsAndCancel(t *testing.T) {
	m := NewMemory(0)
	boom := errors.New("registry unreachable")
	if _, err := m.Do(context.Background(), "k", time.Minute, func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("Do error = %v, want %v", err, boom)
	}
	if _, ok := m.Get("k"); ok {
		t.Fatal("a failed computation was stored")
	}
	// A caller whose deadline passes stops waiting; the computation
	// finishes for the next caller.
	release := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := m.Do(ctx, "slow", time.Minute, func(context.Context) ([]byte, error) {
		<-release
		return []byte("done"), nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do past the deadline = %v", err)
	}
	close(release)
	for _, ok := m.Get("slow"); !ok; _, ok = m.Get("slow") {
		time.Sleep(time.Millisecond)
	}
	v, err := m.Do(context.Background(), "slow", time.Minute, func(context.Context) ([]byte, error) {
		return nil, errors.New("computed twice")
	})
	if err != nil || string(v) != "done" {
		t.Fatalf("Do after the abandoned computation = %q %v, want its value", v, err)
	}
}

func TestKeys(t *testing.T) {
	d := "sha256:" + fmt.Sprintf("%064x", 1)
	if got, want := ScanKey(d, "2026-12-01T00"), "scan/"+d+"/2026-12-01T00"; got != want {
		t.Errorf("ScanKey = %q, want %q", got, want)
	}
	a := SignatureKey(d, []string{"k2", "k1", "k1"})
	if b := SignatureKey(d, []string{"k1", "k2"}); a != b {
		t.Errorf("same key set, different keys: %q %q", a, b)
	}
	if c := SignatureKey(d, []string{"k1"}); c == a {
		t.Error("different key sets share a key")
	}
}
