package inflight

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLease(t *testing.T) {
	b := New(100)
	a, c := b.Lease(), b.Lease()
	if !a.Grow(60) || c.Grow(41) || !c.Grow(40) {
		t.Fatal("60 + 40 of 100 should fit, 60 + 41 not")
	}
	if a.Grow(1) {
		t.Error("a full budget took one more byte")
	}
	a.Release()
	a.Release() // twice is harmless
	if !c.Grow(60) {
		t.Error("released bytes were not given back")
	}
	var none *Budget
	if l := none.Lease(); !l.Grow(1 << 40) {
		t.Error("a nil budget refused")
	}
}

func TestReadBody(t *testing.T) {
	body := strings.Repeat("x", 200<<10)
	for _, tt := range []struct {
		name    string
		length  int64 // -1: unknown
		budget  int64
		limit   int64
		wantErr error
	}{
		{"fits", int64(len(body)), 1 << 20, 1 << 20, nil},
		{"fits, unknown length", -1, 1 << 20, 1 << 20, nil},
		{"busy", int64(len(body)), 100 << 10, 1 << 20, ErrBusy},
		{"busy, unknown length", -1, 100 << 10, 1 << 20, ErrBusy},
		{"too large", int64(len(body)), 1 << 20, 1 << 10, &http.MaxBytesError{}},
		{"too large, unknown length", -1, 1 << 20, 1 << 10, &http.MaxBytesError{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.budget)
			req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(body)))
			req.ContentLength = tt.length
			lease := b.Lease()
			var buf bytes.Buffer
			got, err := ReadBody(httptest.NewRecorder(), req, tt.limit, lease, &buf)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil || string(got) != body {
					t.Fatalf("ReadBody = %d bytes, %v", len(got), err)
				}
				if lease.n < int64(len(body)) {
					t.Errorf("lease holds %d bytes for a %d-byte body", lease.n, len(body))
				}
			case *http.MaxBytesError:
				if _, ok := errors.AsType[*http.MaxBytesError](err); !ok {
					t.Fatalf("err = %v, want a MaxBytesError", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
			lease.Release()
			if b.used != 0 {
				t.Errorf("%d bytes still held after Release", b.used)
			}
		})
	}
}
