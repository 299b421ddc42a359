package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/collector/gen"
	"github.com/journeyd/journeyd/sql/chtest"
	"github.com/journeyd/journeyd/sql/clickhouse"
	"github.com/journeyd/journeyd/sql/event"
	"github.com/journeyd/journeyd/sql/report"
	"github.com/journeyd/journeyd/sql/schema"
	"github.com/journeyd/journeyd/sql/writer"
)

// TestTwoShardCluster runs the cluster layout of DESIGN §11 on two ClickHouse servers on
// loopback: the schema of `journeyd migrate --sql VERSION --cluster journeyd` on both, the
// same generated journeys written once into the cluster (through the Distributed events
// table of the first node) and once into a single server. Both shards must hold events,
// and the views and reports must answer the same on the cluster as on the single server.
func TestTwoShardCluster(t *testing.T) {
	nodes := []*chtest.Server{chtest.Start(t), chtest.Start(t)}
	shards := ""
	for _, n := range nodes {
		_, port, _ := net.SplitHostPort(n.Addr())
		shards += fmt.Sprintf("<shard><replica><host>127.0.0.1</host><port>%s</port></replica></shard>", port)
	}
	for _, n := range nodes {
		dir := filepath.Join(n.Dir(), "config.d")
		os.MkdirAll(dir, 0o755)
		xml := "<yandex><remote_servers><journeyd>" + shards + "</journeyd></remote_servers></yandex>\n"
		if err := os.WriteFile(filepath.Join(dir, "cluster.xml"), []byte(xml), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := n.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	version, err := clickhouse.ServerVersion(nodes[0].Open(t, "default"))
	if err != nil {
		t.Fatal(err)
	}
	clusterDDL, err := schema.ClusterScript("jc", "journeyd", version)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		for _, stmt := range clusterDDL {
			if err := n.Exec(ctx, stmt); err != nil {
				t.Fatalf("cluster schema on %s: %v\n%s", n.Addr(), err, stmt)
			}
		}
	}
	// the migrations are recorded: a journeyd started with --migrate changes nothing
	if err := schema.Migrate(ctx, nodes[1].Open(t, "jc"), "jc"); err != nil {
		t.Fatal(err)
	}
	var stray uint64
	if err := nodes[1].Open(t, "jc").QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = 'jc' AND name IN ('sessions', 'sessions_mv')").Scan(&stray); err != nil || stray != 0 {
		t.Fatalf("migrating a cluster node laid %d single-server tables over it (%v)", stray, err)
	}
	single, err := schema.Script("single", version)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range single {
		if err := nodes[0].Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}

	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var events int
	for _, scenario := range []string{"shop", "email-chain", "coffee"} {
		out, err := gen.Generate(scenario, gen.Options{Seed: 7, People: 400, Site: scenario, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		events += len(out.Events)
		for _, db := range []string{"single", "jc"} {
			conn, err := clickhouse.Open(ctx, nodes[0].DSN(db)+"?insert_distributed_sync=1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := writer.WriteAll(ctx, conn, writer.Config{Database: db}, append([]event.Event(nil), out.Events...)); err != nil {
				t.Fatal(err)
			}
			conn.Close()
		}
	}

	total := 0
	for _, n := range nodes {
		var local uint64
		if err := n.Open(t, "jc").QueryRow(ctx, "SELECT count() FROM events_local").Scan(&local); err != nil {
			t.Fatal(err)
		}
		if local == 0 {
			t.Errorf("shard %s holds no event", n.Addr())
		}
		t.Logf("shard %s: %d events", n.Addr(), local)
		total += int(local)
	}
	if total != events {
		t.Fatalf("the shards hold %d events, %d were written", total, events)
	}

	singleConn, clusterConn := nodes[0].Open(t, "single"), nodes[0].Open(t, "jc")
	for _, q := range []string{
		"SELECT * FROM sessions_v ORDER BY site_id, session_id",
		"SELECT * FROM identities_v ORDER BY site_id, anon_id, user_id",
		"SELECT site_id, person_id, count() FROM events_person_v GROUP BY site_id, person_id ORDER BY site_id, person_id",
	} {
		a, b := rowsOf(t, ctx, singleConn, q), rowsOf(t, ctx, clusterConn, q)
		if len(a) == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %d rows on a single server, %d on the cluster, or different", q, len(a), len(b))
		}
	}
	reports := []struct {
		name, site string
		opts       map[string]string
	}{
		{"funnel", "shop", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "by": "device"}},
		{"attribution", "shop", map[string]string{"model": "all"}},
		{"attribution", "email-chain", map[string]string{"model": "all", "by": "campaign"}},
		{"paths", "shop", nil},
		{"channels", "email-chain", nil},
		{"retention", "coffee", map[string]string{"cohort": "first_purchase", "return": "purchase", "within": "7d"}},
		{"stages", "shop", nil},
	}
	for _, r := range reports {
		opts := map[string]string{"from": "2026-01-01", "to": "2026-06-01"}
		for k, v := range r.opts {
			opts[k] = v
		}
		req, err := report.ParseRequest(r.site, report.Definitions{}, opts, now)
		if err != nil {
			t.Fatal(err)
		}
		var got [2]string
		for i, conn := range []driver.Conn{singleConn, clusterConn} {
			db := []string{"single", "jc"}[i]
			res, err := (&report.Runner{Conn: conn, DB: db}).Run(ctx, r.name, req)
			if err != nil {
				t.Fatalf("report %s on %s: %v", r.name, db, err)
			}
			js, _ := json.Marshal(res)
			got[i] = string(js)
		}
		if got[0] != got[1] || !strings.Contains(got[0], `"rows":[[`) {
			t.Errorf("report %s of %s differs or is empty:\nsingle  %s\ncluster %s", r.name, r.site, got[0], got[1])
		}
	}
}

func rowsOf(t *testing.T, ctx context.Context, conn driver.Conn, q string) [][]string {
	t.Helper()
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(rows.ColumnTypes()))
		for i, c := range rows.ColumnTypes() {
			vals[i] = reflect.New(c.ScanType()).Interface()
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(reflect.ValueOf(v).Elem().Interface())
		}
		out = append(out, row)
	}
	return out
}
