package spool

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	bytes, diskBytes, segments, replaying prometheus.Gauge
	replayed, commits                     prometheus.Counter
	commitErrors, damaged, damagedBytes   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "journeyd_spool_bytes",
			Help: "Bytes of the events in the spool that ClickHouse does not have yet (not acknowledged by the writer): what --spool-max-bytes limits."}),
		diskBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "journeyd_spool_disk_bytes",
			Help: "Bytes of the spool's segment files, stored events included until their segment is sealed and deleted."}),
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
		damaged: prometheus.NewCounter(prometheus.CounterOpts{Name: "journeyd_spool_damaged_records_total",
			Help: "Damaged records skipped by the replay (cut short by a crash, or failing their checksum): each run of damaged bytes counts as one record. The bytes are kept in a .damaged file beside the segments."}),
		damagedBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "journeyd_spool_damaged_bytes_total",
			Help: "Bytes of damaged records skipped by the replay and kept in .damaged files."}),
	}
	for _, c := range []prometheus.Collector{m.bytes, m.diskBytes, m.segments, m.replaying, m.replayed, m.commits, m.commitErrors, m.damaged, m.damagedBytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
