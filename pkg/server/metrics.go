package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/darkshare/darkshare/pkg/track"
)

// Metrics are the Prometheus series darkshare exports at /metrics.
// Counters on the redirect path are looked up once here, not per request.
type Metrics struct {
	registry      *prometheus.Registry
	redirects     prometheus.Counter
	visits        [track.Bot + 1]prometheus.Counter
	views         [track.LandingInternal + 1]prometheus.Counter
	mints         prometheus.Counter
	shares        prometheus.Counter
	flushDuration prometheus.Histogram
	flushErrors   prometheus.Counter
}

// MetricsSources are the gauges read at scrape time.
type MetricsSources struct {
	Pending func() int64 // events counted but not yet written
	DBSize  func() int64 // bytes of the db file; nil where there is none (PostgreSQL)
}

// NewMetrics returns darkshare's metrics in a registry of their own, with
// the Go runtime's and the process's.
func NewMetrics(src MetricsSources) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	visits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "darkshare_visits_total", Help: "Requests to short links by class: human (clicks), preview, scanner, bot.",
	}, []string{"class"})
	for c := range m.visits {
		m.visits[c] = visits.WithLabelValues(track.Class(c).String())
	}
	views := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "darkshare_page_views_total", Help: "Page views reported by the landing beacon, by landing class (bots not counted).",
	}, []string{"class"})
	for l := range m.views {
		m.views[l] = views.WithLabelValues(track.Landing(l).String())
	}
	m.redirects = prometheus.NewCounter(prometheus.CounterOpts{Name: "darkshare_redirects_total", Help: "Redirects answered."})
	m.mints = prometheus.NewCounter(prometheus.CounterOpts{Name: "darkshare_mint_requests_total", Help: "Successful mint requests."})
	m.shares = prometheus.NewCounter(prometheus.CounterOpts{Name: "darkshare_share_intents_total", Help: "Share intents counted."})
	m.flushDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "darkshare_flush_duration_seconds", Help: "Time to write pending counts to the db.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	m.flushErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "darkshare_flush_errors_total", Help: "Flushes that failed (counts kept and retried)."})
	m.registry.MustRegister(visits, views, m.redirects, m.mints, m.shares, m.flushDuration, m.flushErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "darkshare_pending_events", Help: "Events counted in memory, not yet written."},
			func() float64 { return float64(src.Pending()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if src.DBSize != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "darkshare_db_size_bytes", Help: "Size of the db file."},
			func() float64 { return float64(src.DBSize()) }))
	}
	return m
}

// ObserveFlush records one flush; give it to the aggregator.
func (m *Metrics) ObserveFlush(d time.Duration, err error) {
	m.flushDuration.Observe(d.Seconds())
	if err != nil {
		m.flushErrors.Inc()
	}
}

func (m *Metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}
