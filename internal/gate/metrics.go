package gate

import "github.com/prometheus/client_golang/prometheus"

// Metrics count the gate's work for /metrics: tollgate_scans_total and
// tollgate_verifications_total, by result (started, finished, failed).
// A nil *Metrics counts nothing.
type Metrics struct {
	scans, verifications *prometheus.CounterVec
}

// NewMetrics returns the counters; register Collectors on the server's
// registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_scans_total",
			Help: "Image scans run by this process for admission decisions, by result (started, finished, failed).",
		}, []string{"result"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_verifications_total",
			Help: "Signature verifications run by this process for admission decisions, by result (started, finished, failed).",
		}, []string{"result"}),
	}
	for _, r := range []string{"started", "finished", "failed"} {
		m.scans.WithLabelValues(r)
		m.verifications.WithLabelValues(r)
	}
	return m
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.scans, m.verifications}
}

func (m *Metrics) scan(result string) {
	if m != nil {
		m.scans.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) verification(result string) {
	if m != nil {
		m.verifications.WithLabelValues(result).Inc()
	}
}
