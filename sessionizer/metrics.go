package sessionizer

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the journeyd_sessionizer_* series.
type metrics struct {
	visitors  prometheus.Gauge
	evictions *prometheus.CounterVec
	started   prometheus.Counter
	late      prometheus.Counter
	conflicts prometheus.Counter
	reloaded  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		visitors: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "journeyd_sessionizer_visitors",
			Help: "Visitors whose open session the sessionizer holds.",
		}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_sessionizer_evictions_total",
			Help: "Visitors dropped from the state, by reason: idle (no event for the session timeout) or limit (the memory limit was reached; the least recently seen goes) or erased (journeyd erase: the person's links are forgotten).",
		}, []string{"reason"}),
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_sessionizer_sessions_started_total",
			Help: "Sessions started, by the snippet or by the sessionizer.",
		}),
		late: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_sessionizer_late_events_total",
			Help: "Events older than their visitor's open session, given a session of their own.",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_sessionizer_identity_conflicts_total",
			Help: "Events linking an anonymous id to a user id other than the one it is already linked to; the link is not applied.",
		}),
		reloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_sessionizer_visitors_reloaded_total",
			Help: "Visitors restored from ClickHouse on start.",
		}),
	}
	m.evictions.WithLabelValues("idle")
	m.evictions.WithLabelValues("limit")
	m.evictions.WithLabelValues("erased")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.visitors, m.evictions, m.started, m.late, m.conflicts, m.reloaded} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("cannot register sessionizer metrics: %w", err)
		}
	}
	return m, nil
}
