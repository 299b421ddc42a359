package spool

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	bytes, segments, replaying prometheus.Gauge
	replayed, commits          prometheus.Counter
	commitErrors, damaged      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "journeyd_spool_bytes",
			Help: "Bytes in the spool: events accepted and not yet known to be stored in ClickHouse."}),
		segments: prometheus.NewGauge(prometheus.GaugeOpts{Name: "journeyd_spool_segments",
			Help: "Segment files in the spool."}),
		replaying: prometheus.NewGauge(prometheus.GaugeOpts{Name: "journeyd_spool_replaying",
			Help: "1 while events go to the spool's disk alone and are replayed to the writer (the writer was full, or a restart found events left)."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "journeyd_spool_replayed_events_total",
			Help: "Events read back from the spool and handed to the writer."}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{Name: "journeyd_spool_commits_total",
			Help: "Group commits (write and fsync) of the spool."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "journeyd_spool_commit_errors_total",
			Help: "Group commits that failed to write or fsync."}),
		damaged: prometheus.NewCounter(prometheus.CounterOpts{Name: "journeyd_spool_damaged_segments_total",
			Help: "Segments whose replay stopped at a damaged record (cut short by a crash, or failing its checksum)."}),
	}
	for _, c := range []prometheus.Collector{m.bytes, m.segments, m.replaying, m.replayed, m.commits, m.commitErrors, m.damaged} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
