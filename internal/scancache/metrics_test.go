package scancache

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	m := NewMemory(0)
	ctx := context.Background()
	compute := func(context.Context) ([]byte, error) { return []byte("r"), nil }
	m.Do(ctx, "a", time.Minute, compute)
	m.Do(ctx, "a", time.Minute, compute)
	m.Do(ctx, "b", time.Minute, compute)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(m))
	want := `
# HELP tollgate_scan_cache_computes_total Results this process computed (scans run).
# TYPE tollgate_scan_cache_computes_total counter
tollgate_scan_cache_computes_total{backend="memory"} 2
# HELP tollgate_scan_cache_hits_total Results found in the cache (in process or in Redis).
# TYPE tollgate_scan_cache_hits_total counter
tollgate_scan_cache_hits_total{backend="memory"} 1
# HELP tollgate_scan_cache_shared 1 while scan results are shared with the other replicas through Redis; 0 when only this process has them (no Redis, or Redis unreachable).
# TYPE tollgate_scan_cache_shared gauge
tollgate_scan_cache_shared{backend="memory"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"tollgate_scan_cache_computes_total", "tollgate_scan_cache_hits_total", "tollgate_scan_cache_shared"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(NewCollector(m)); n != 5 {
		t.Errorf("%d metrics, want 5", n)
	}
}
