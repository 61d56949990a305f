package scancache

import "github.com/prometheus/client_golang/prometheus"

// collector exports a cache's Status as Prometheus metrics, read at each
// scrape.
type collector struct {
	c                                      Cache
	shared, hits, computes, waits, fallbks *prometheus.Desc
}

// NewCollector returns the Prometheus collector of c's Status, for the
// server's registry: tollgate_scan_cache_shared (1 while results are
// shared through Redis, 0 in process — the fallback), and the counters
// tollgate_scan_cache_{hits,computes,waits,fallbacks}_total, each with the
// label backend ("memory" or "redis").
func NewCollector(c Cache) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("tollgate_scan_cache_"+name, help, []string{"backend"}, nil)
	}
	return &collector{
		c:        c,
		shared:   d("shared", "1 while scan results are shared with the other replicas through Redis; 0 when only this process has them (no Redis, or Redis unreachable)."),
		hits:     d("hits_total", "Results found in the cache (in process or in Redis)."),
		computes: d("computes_total", "Results this process computed (scans run)."),
		waits:    d("waits_total", "Times this process waited for a result another caller or replica was computing."),
		fallbks:  d("fallbacks_total", "Calls served from the in-process cache because Redis was unreachable."),
	}
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.shared, m.hits, m.computes, m.waits, m.fallbks} {
		ch <- d
	}
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	st := m.c.Status()
	shared := 0.0
	if st.Shared {
		shared = 1
	}
	ch <- prometheus.MustNewConstMetric(m.shared, prometheus.GaugeValue, shared, st.Backend)
	for _, v := range []struct {
		d *prometheus.Desc
		n uint64
	}{{m.hits, st.Hits}, {m.computes, st.Computes}, {m.waits, st.Waits}, {m.fallbks, st.Fallbacks}} {
		ch <- prometheus.MustNewConstMetric(v.d, prometheus.CounterValue, float64(v.n), st.Backend)
	}
}
