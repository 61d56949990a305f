package webhook

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Decisions, the values of the "decision" label.
const (
	decisionAllow        = "allow"        // admitted (possibly with warnings or audit annotations)
	decisionDeny         = "deny"         // refused by the policy (HTTP 200, allowed: false)
	decisionPatch        = "patch"        // admitted with a JSON Patch
	decisionInvalid      = "invalid"      // malformed, oversized or wrongly typed request (HTTP 4xx)
	decisionUnauthorized = "unauthorized" // no verified client certificate (HTTP 401)
	decisionError        = "error"        // tollgate failed, e.g. a recovered panic (HTTP 500)
	decisionBusy         = "busy"         // refused for too many bytes in flight (HTTP 429, retried)
)

// metrics are the server's Prometheus collectors, on a registry of its own
// (no global state), served at /metrics.
type metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	decisions     *prometheus.HistogramVec
	policyReloads *prometheus.CounterVec
	certReloads   *prometheus.CounterVec
	policyInfo    *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_requests_total",
			Help: "Requests answered, by route and decision (allow, deny, patch, invalid, unauthorized, error).",
		}, []string{"route", "decision"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tollgate_request_duration_seconds",
			Help: "Time from request start to the response being written, by route.",
			// From 100 µs (a cached decision) up to the 30 s maximum
			// webhook timeout (digest look-ups can be slow).
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		decisions: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_decision_duration_seconds",
			Help:    "Time from request start to the answer, by route and decision (allow, deny, patch, invalid, unauthorized, error, busy).",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30},
		}, []string{"route", "decision"}),
		policyReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_policy_reloads_total",
			Help: "Policy file reloads after a change on disk, by result (success, error).",
		}, []string{"result"}),
		certReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_certificate_reloads_total",
			Help: "Serving certificate and client CA reloads after a change on disk, by result (success, error).",
		}, []string{"result"}),
		policyInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tollgate_policy_info",
			Help: "The policy in force (value 1), by metadata.name.",
		}, []string{"name"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.decisions, m.policyReloads, m.certReloads, m.policyInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"success", "error"} {
		m.policyReloads.WithLabelValues(r)
		m.certReloads.WithLabelValues(r)
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

func (m *metrics) setPolicy(name string) {
	m.policyInfo.Reset()
	m.policyInfo.WithLabelValues(name).Set(1)
}
