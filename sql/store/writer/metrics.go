package writer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	batches    prometheus.Counter
	rows       prometheus.Counter
	errors     *prometheus.CounterVec
	seconds    prometheus.Histogram
	depth      prometheus.Gauge
	deadLetter *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_writer_batches_flushed_total", Help: "Batches inserted into ClickHouse.",
		}),
		rows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_writer_rows_written_total", Help: "Event rows inserted into ClickHouse.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_writer_insert_errors_total",
			Help: "Failed insert attempts, by reason: network, server_overloaded, server_error, rejected, bad_row, shutdown, other.",
		}, []string{"reason"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "journeyd_writer_insert_seconds", Help: "Duration of insert attempts.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "journeyd_writer_queue_depth", Help: "Events accepted by the writer and not yet inserted or dead-lettered.",
		}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_writer_dead_letter_rows_total",
			Help: "Events written to the dead-letter file instead of ClickHouse, by reason: rejected, bad_row, shutdown.",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.batches, m.rows, m.errors, m.seconds, m.depth, m.deadLetter} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every reason at 0 from the start: a dashboard panel over them shows 0, not "No data",
	// until the first error.
	for _, reason := range reasons {
		m.errors.WithLabelValues(reason)
		m.deadLetter.WithLabelValues(reason)
	}
	return m, nil
}
