package schema

import (
	"strings"
	"testing"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// TestClusterScript: every sharded table is local plus Distributed, and every materialized
// view reads and writes local tables (a view on a Distributed table would see no insert);
// with replicas, every local table is on the Replicated engine. TestTwoShardCluster and
// TestReplicatedCluster in cmd/journeyd run the result on servers.
func TestClusterScript(t *testing.T) {
	v, _ := clickhouse.ParseVersion("18.16")
	stmts, err := ClusterScript("jd", Cluster{Name: "journeyd"}, v)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(stmts, ";\n")
	for _, table := range Sharded {
		for _, want := range []string{"CREATE TABLE IF NOT EXISTS jd." + table + "_local", "ENGINE = Distributed(journeyd, jd, " + table + "_local, "} {
			if !strings.Contains(text, want) {
				t.Errorf("the cluster schema lacks %q", want)
			}
		}
	}
	for _, s := range stmts {
		if strings.Contains(s, "CREATE MATERIALIZED VIEW") && (!strings.Contains(s, "FROM jd.events_local") || !strings.Contains(s, "_local AS")) {
			t.Errorf("a materialized view not on local tables:\n%s", s)
		}
	}
	if !strings.Contains(text, "GLOBAL ANY LEFT JOIN") || !strings.Contains(text, "cityHash64(site_id, anon_id)") {
		t.Error("the cluster schema lacks the GLOBAL join of events_person_v or the visitor sharding key")
	}
	if strings.Contains(text, "Replicated") {
		t.Error("a cluster schema without replicas has Replicated engines")
	}
	// 0025 adds columns to session_aggregates: on a cluster they are part of the local
	// table as it is made, and no ALTER runs (the second replica of a shard would fail it).
	for _, s := range stmts {
		if strings.HasPrefix(s, "CREATE TABLE IF NOT EXISTS jd.session_aggregates_local") && !strings.Contains(s, "anon_hash_state AggregateFunction(maxIf, UInt64, UInt8)") {
			t.Errorf("the local session_aggregates lacks the columns of 0025:\n%s", s)
		}
	}
	for _, s := range stmts {
		if strings.Contains(stripComments(s), "ALTER TABLE") {
			t.Errorf("the cluster schema of a new database runs an ALTER TABLE:\n%s", s)
		}
	}

	stmts, err = ClusterScript("jd", Cluster{Name: "journeyd", Replicated: true}, v)
	if err != nil {
		t.Fatal(err)
	}
	text = strings.Join(stmts, ";\n")
	for _, want := range []string{
		"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/jd/events_local', '{replica}', received_at)",
		"ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/jd/session_aggregates_local', '{replica}')",
		"ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/jd/identities_local', '{replica}')",
		"ENGINE = Distributed(journeyd, jd, events_local, ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the replicated cluster schema lacks %q", want)
		}
	}
	if strings.Contains(text, "ReplicatedDistributed") || !strings.Contains(text, "ENGINE = ReplacingMergeTree(applied_at)") {
		t.Error("the replicated cluster schema made a Distributed table or the node's own schema_migrations Replicated")
	}
	if _, err := ClusterScript("jd", Cluster{Name: "a b"}, v); err == nil {
		t.Error("a cluster name with a space: no error")
	}
}
