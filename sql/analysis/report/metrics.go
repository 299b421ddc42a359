package report

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the journeyd_report_store_* series of a Runner's store of days' rows
// (daystore.go). A nil *Metrics counts nothing.
type Metrics struct {
	hits, misses, evictions, unsettledDays, keptReads, patchedReads prometheus.Counter
	bytes                                                           prometheus.Gauge
	loadedDays, diskErrors                                          prometheus.Counter
	filesDropped                                                    *prometheus.CounterVec
}

// fileDropReasons are the reasons a day file is dropped at load (daydisk.go), the labels of
// journeyd_report_store_files_dropped_total.
var fileDropReasons = []string{"corrupt", "format", "kind", "bound"}

// NewMetrics returns the store's metrics, registered with reg unless it is nil.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_hits_total",
			Help: "Days of a report's period whose rows came from the store, their events unchanged since they were read.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_misses_total",
			Help: "Days of a report's period read from ClickHouse: not stored, evicted, or their events changed.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_evictions_total",
			Help: "Days dropped from the store to keep it within --report-store-bytes, the least recently used first.",
		}),
		unsettledDays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_unsettled_total",
			Help: "Days read from ClickHouse while it ran an INSERT or a mutation, used for the report but not stored.",
		}),
		keptReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_kept_reads_total",
			Help: "Reads of a report's touch groups answered by the groups kept of an earlier read: every day's rows from the store and the person links unchanged since.",
		}),
		patchedReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_patched_reads_total",
			Help: "Reads of a report's touch groups answered by the groups kept of an earlier read with the groups of the persons a changed day or link touches made again.",
		}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "journeyd_report_store_bytes",
			Help: "Bytes of days' rows the store holds.",
		}),
		loadedDays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_loaded_total",
			Help: "Days loaded into the store from --report-store-dir at start.",
		}),
		diskErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_report_store_disk_errors_total",
			Help: "Days the store could not write to (or remove from) --report-store-dir; a restart reads them from ClickHouse.",
		}),
		filesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_report_store_files_dropped_total",
			Help: "Day files of --report-store-dir removed at start: corrupt (damaged or cut short), format (another version), kind (a kind of day this journeyd does not keep), bound (beyond --report-store-bytes).",
		}, []string{"reason"}),
	}
	for _, r := range fileDropReasons {
		m.filesDropped.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.hits, m.misses, m.evictions, m.unsettledDays, m.keptReads, m.patchedReads, m.bytes, m.loadedDays, m.diskErrors, m.filesDropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("cannot register report store metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) hit() {
	if m != nil {
		m.hits.Inc()
	}
}

func (m *Metrics) miss() {
	if m != nil {
		m.misses.Inc()
	}
}

func (m *Metrics) keptRead() {
	if m != nil {
		m.keptReads.Inc()
	}
}

func (m *Metrics) patchedRead() {
	if m != nil {
		m.patchedReads.Inc()
	}
}

func (m *Metrics) evicted() {
	if m != nil {
		m.evictions.Inc()
	}
}

func (m *Metrics) unsettled() {
	if m != nil {
		m.unsettledDays.Inc()
	}
}

func (m *Metrics) setBytes(n int64) {
	if m != nil {
		m.bytes.Set(float64(n))
	}
}

func (m *Metrics) loaded(n int) {
	if m != nil {
		m.loadedDays.Add(float64(n))
	}
}

func (m *Metrics) diskError() {
	if m != nil {
		m.diskErrors.Inc()
	}
}

func (m *Metrics) fileDropped(reason string) {
	if m != nil {
		m.filesDropped.WithLabelValues(reason).Inc()
	}
}
