package main

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/cmd/journeyd/gen"
	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/analysis/journey"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
	"github.com/journeyd/journeyd/sql/store/erase"
	"github.com/journeyd/journeyd/sql/store/schema"
	"github.com/journeyd/journeyd/sql/store/visitors"
	"github.com/journeyd/journeyd/sql/store/writer"
)

// TestTwoShardCluster runs the cluster layout of DESIGN §11 on two ClickHouse servers on
// loopback: the schema of `journeyd migrate --sql VERSION --cluster journeyd` on both, the
// same generated journeys written once into the cluster (through the Distributed events
// table of the first node) and once into a single server. Both shards must hold events,
// and the views and reports must answer the same on the cluster as on the single server.
func TestTwoShardCluster(t *testing.T) {
	c := startCluster(t, [][]*chtest.Server{{chtest.Start(t)}, {chtest.Start(t)}}, nil)
	c.compareWithSingle(t, c.shards[0][0])
	c.eraseOne(t, c.shards[0][0])
	c.compareWithSingle(t, c.shards[0][0])
}

// TestReplicatedCluster runs the same layout with replicas, as DESIGN §11 has it: two
// shards of two replicas each over one ZooKeeper, the schema of `journeyd migrate --sql
// VERSION --cluster journeyd --replicated`. Every replica of a shard must end up with the
// same events, sessions and identity links (the materialized views run once, on the replica
// that took the insert, and their rows replicate), and with one replica of each shard down
// the views and reports must still answer what a single server answers.
func TestReplicatedCluster(t *testing.T) {
	zk := chtest.StartZooKeeper(t)
	shards := [][]*chtest.Server{{chtest.Start(t), chtest.Start(t)}, {chtest.Start(t), chtest.Start(t)}}
	c := startCluster(t, shards, zk)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i, replicas := range shards {
		var counts []string
		for _, n := range replicas {
			conn := n.Open(t, "jc")
			var row []string
			for _, table := range replicatedTables {
				var rows uint64
				if err := conn.QueryRow(ctx, "SELECT count() FROM "+table+" FINAL").Scan(&rows); err != nil {
					t.Fatal(err)
				}
				row = append(row, fmt.Sprintf("%s %d", table, rows))
			}
			counts = append(counts, strings.Join(row, ", "))
		}
		t.Logf("shard %d: %s", i+1, counts[0])
		if counts[0] != counts[1] {
			t.Errorf("the replicas of shard %d differ:\n%s\n%s", i+1, counts[0], counts[1])
		}
	}
	c.compareWithSingle(t, shards[0][0])
	// one replica of each shard down: the Distributed tables read the other
	if err := shards[0][1].Stop(); err != nil {
		t.Fatal(err)
	}
	if err := shards[1][0].Stop(); err != nil {
		t.Fatal(err)
	}
	c.compareWithSingle(t, shards[0][0])
	// an erasure with them down reaches them when they are back
	person := c.eraseOne(t, shards[0][0])
	c.compareWithSingle(t, shards[0][0])
	for _, n := range []*chtest.Server{shards[0][1], shards[1][0]} {
		if err := n.Restart(); err != nil {
			t.Fatal(err)
		}
		var left uint64
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
			if err := n.Open(t, "jc").QueryRow(ctx, "SELECT count() FROM events_local WHERE site_id = 'email-chain' AND user_id = ?", person).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left == 0 || time.Now().After(deadline) {
				break
			}
		}
		if left != 0 {
			t.Errorf("replica %s, down during the erasure, still holds %d events of %s a minute after its restart", n.Addr(), left, person)
		}
	}
}

// eraseOne erases the signed-in person of "email-chain" with the most events from the single
// server and, with journeyd erase --cluster, from the cluster through node, and returns
// their user id. Their events must be gone from the cluster.
func (c *cluster) eraseOne(t *testing.T, node *chtest.Server) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	single := node.Open(t, "single")
	var person string
	if err := single.QueryRow(ctx, "SELECT user_id FROM events WHERE site_id = 'email-chain' AND user_id != '' GROUP BY user_id ORDER BY count() DESC, user_id LIMIT 1").Scan(&person); err != nil {
		t.Fatal(err)
	}
	p, err := erase.Find(ctx, single, "", "email-chain", person)
	if err != nil {
		t.Fatal(err)
	}
	if err := erase.Run(ctx, single, "", p, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		var n uint64
		if err := node.Open(t, "jc").QueryRow(ctx, "SELECT count() FROM events WHERE site_id = 'email-chain' AND user_id = ?", person).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count() == 0 {
		t.Fatalf("the cluster holds no event of %s before the erasure", person)
	}
	if err := runErase(ctx, []string{"--clickhouse", node.DSN("jc"), "--site", "email-chain", "--person", person, "--cluster", "journeyd", "--yes"}); err != nil {
		t.Fatalf("journeyd erase --cluster: %v", err)
	}
	if n := count(); n != 0 {
		t.Errorf("after journeyd erase --cluster the cluster still holds %d events of %s", n, person)
	}
	return person
}

// replicatedTables are the local tables whose replicas a test syncs and compares.
var replicatedTables = []string{"events_local", "session_aggregates_local", "identities_local"}

// cluster is a ClickHouse cluster of a test, with the journeys it was given; node
// shards[0][0] also holds them in the single-server database "single".
type cluster struct {
	shards [][]*chtest.Server
	now    time.Time
}

// startCluster lays the cluster schema (database "jc", cluster "journeyd", replicated when
// zk is given) over shards, each a list of replicas, and the single-server schema (database
// "single") on the first node, then writes the same generated journeys into both and checks
// that every shard holds events and that together they hold every event once.
func startCluster(t *testing.T, shards [][]*chtest.Server, zk *chtest.ZooKeeper) *cluster {
	t.Helper()
	remote := ""
	for _, replicas := range shards {
		remote += "<shard>"
		if zk != nil {
			remote += "<internal_replication>true</internal_replication>"
		}
		for _, n := range replicas {
			_, port, _ := net.SplitHostPort(n.Addr())
			remote += fmt.Sprintf("<replica><host>127.0.0.1</host><port>%s</port></replica>", port)
		}
		remote += "</shard>"
	}
	// the replicas' config is deploy/cluster's example with this test's ZooKeeper and names
	var example string
	if zk != nil {
		b, err := os.ReadFile("../../deploy/cluster/replicas.xml")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(zk.Addr())
		example = regexp.MustCompile(`zk-\d\.example</host><port>2181<`).ReplaceAllString(string(b), "127.0.0.1</host><port>"+port+"<")
	}
	for i, replicas := range shards {
		for j, n := range replicas {
			files := map[string]string{"cluster.xml": "<yandex><remote_servers><journeyd>" + remote + "</journeyd></remote_servers></yandex>\n"}
			if zk != nil {
				files["replicas.xml"] = strings.NewReplacer("<shard>1</shard>", fmt.Sprintf("<shard>%d</shard>", i+1),
					"<replica>ch-1a.example</replica>", fmt.Sprintf("<replica>r%d</replica>", j+1)).Replace(example)
			}
			dir := filepath.Join(n.Dir(), "config.d")
			os.MkdirAll(dir, 0o755)
			for name, xml := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(xml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := n.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := n.Restart(); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := shards[0][0]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	version, err := clickhouse.ServerVersion(first.Open(t, "default"))
	if err != nil {
		t.Fatal(err)
	}
	clusterDDL, err := schema.ClusterScript("jc", schema.Cluster{Name: "journeyd", Replicated: zk != nil}, version)
	if err != nil {
		t.Fatal(err)
	}
	for _, replicas := range shards {
		for _, n := range replicas {
			for _, stmt := range clusterDDL {
				if err := n.Exec(ctx, stmt); err != nil {
					t.Fatalf("cluster schema on %s: %v\n%s", n.Addr(), err, stmt)
				}
			}
		}
	}
	// the migrations are recorded: a journeyd started with --migrate changes nothing
	last := shards[len(shards)-1][0]
	if err := schema.Migrate(ctx, last.Open(t, "jc"), "jc"); err != nil {
		t.Fatal(err)
	}
	var stray uint64
	if err := last.Open(t, "jc").QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = 'jc' AND name IN ('sessions', 'sessions_mv')").Scan(&stray); err != nil || stray != 0 {
		t.Fatalf("migrating a cluster node laid %d single-server tables over it (%v)", stray, err)
	}
	single, err := schema.Script("single", version)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range single {
		if err := first.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}

	c := &cluster{shards: shards, now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	var events int
	for _, scenario := range []string{"shop", "email-chain", "coffee"} {
		out, err := gen.Generate(scenario, gen.Options{Seed: 7, People: 400, Site: scenario, Now: c.now})
		if err != nil {
			t.Fatal(err)
		}
		events += len(out.Events)
		for _, db := range []string{"single", "jc"} {
			conn, err := clickhouse.Open(ctx, first.DSN(db)+"?insert_distributed_sync=1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := writer.WriteAll(ctx, conn, writer.Config{Database: db}, append([]event.Event(nil), out.Events...)); err != nil {
				t.Fatal(err)
			}
			conn.Close()
		}
	}

	if zk != nil {
		// each replica has fetched what the others took
		for _, replicas := range shards {
			for _, n := range replicas {
				for _, table := range replicatedTables {
					if err := n.Exec(ctx, "SYSTEM SYNC REPLICA jc."+table); err != nil {
						t.Fatalf("sync replica %s of %s: %v", n.Addr(), table, err)
					}
				}
			}
		}
	}
	var total uint64
	for i, replicas := range shards {
		var local uint64
		if err := replicas[0].Open(t, "jc").QueryRow(ctx, "SELECT count() FROM events_local").Scan(&local); err != nil {
			t.Fatal(err)
		}
		if local == 0 {
			t.Errorf("shard %d holds no event", i+1)
		}
		t.Logf("shard %d: %d events", i+1, local)
		total += local
	}
	if total != uint64(events) {
		t.Fatalf("the shards hold %d events, %d were written", total, events)
	}
	return c
}

// compareWithSingle checks, through node, that the views and reports answer the same on
// the cluster as on the single server.
func (c *cluster) compareWithSingle(t *testing.T, node *chtest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	singleConn, clusterConn := node.Open(t, "single"), node.Open(t, "jc")
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
	// a person's journey (journeyd journey), by user id and by a linked anonymous id, and
	// the visitors the sessionizer reloads at start
	var user, anon string
	if err := singleConn.QueryRow(ctx, "SELECT user_id, any(anon_id) FROM events WHERE site_id = 'email-chain' AND user_id != '' AND anon_id != '' GROUP BY user_id ORDER BY count() DESC, user_id LIMIT 1").Scan(&user, &anon); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{user, anon} {
		var got [2]string
		for i, conn := range []driver.Conn{singleConn, clusterConn} {
			j, err := journey.Person(ctx, conn, "", "email-chain", id)
			if err != nil {
				t.Fatalf("journey of %s on %s: %v", id, []string{"single", "jc"}[i], err)
			}
			js, _ := json.Marshal(j)
			got[i] = string(js)
		}
		if got[0] != got[1] || !strings.Contains(got[0], `"touchpoints":[{`) {
			t.Errorf("the journey of %s differs or is empty:\nsingle  %s\ncluster %s", id, got[0], got[1])
		}
	}
	var active [2][]string
	for i, conn := range []driver.Conn{singleConn, clusterConn} {
		err := visitors.Active(ctx, conn, "", c.now.AddDate(0, 0, -60), 24*time.Hour, func(v visitors.Visitor) error {
			js, _ := json.Marshal(v)
			active[i] = append(active[i], string(js))
			return nil
		})
		if err != nil {
			t.Fatalf("active visitors on %s: %v", []string{"single", "jc"}[i], err)
		}
		sort.Strings(active[i])
	}
	if len(active[0]) == 0 || !reflect.DeepEqual(active[0], active[1]) {
		t.Errorf("active visitors: %d on a single server, %d on the cluster, or different", len(active[0]), len(active[1]))
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
		{"retention", "coffee", map[string]string{"cohort": "first_visit", "return": "purchase", "within": "7d,14d,30d"}},
		{"stages", "shop", nil},
		{"funnel", "shop", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "per": "session"}},
		{"next", "shop", map[string]string{"after": "event:add_to_cart"}},
		{"time-to-convert", "email-chain", nil},
		{"barriers", "shop", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "by": "device"}},
	}
	for _, r := range reports {
		opts := map[string]string{"from": "2026-01-01", "to": "2026-06-01"}
		for k, v := range r.opts {
			opts[k] = v
		}
		req, err := report.ParseRequest(r.site, goal.Definitions{}, opts, c.now)
		if err != nil {
			t.Fatal(err)
		}
		// on the cluster both ways: as served, and from the events' own queries (EventsOnly)
		var got [3]string
		for i, conn := range []driver.Conn{singleConn, clusterConn, clusterConn} {
			db := []string{"single", "jc", "jc"}[i]
			res, err := (&report.Runner{Conn: conn, DB: db, EventsOnly: i == 2}).Run(ctx, r.name, req)
			if err != nil {
				t.Fatalf("report %s on %s: %v", r.name, db, err)
			}
			js, _ := json.Marshal(res)
			got[i] = string(js)
		}
		if got[0] != got[1] || got[0] != got[2] || !strings.Contains(got[0], `"rows":[[`) {
			t.Errorf("report %s of %s differs or is empty:\nsingle  %s\ncluster %s\ncluster, from the events alone %s", r.name, r.site, got[0], got[1], got[2])
		}
	}
	storeKeepsNothing(t, ctx, clusterConn, c.now)
}

// storeKeepsNothing: through a Runner that keeps days (journeyd serve's), paths of shop
// over the 151 days from January to May answers on the cluster what it answers without a
// store, twice, and keeps none of the days: events is a Distributed table there, whose
// inserts this node cannot see (settled.sql), so each run reads all 151 days and the store
// counts them unsettled.
func storeKeepsNothing(t *testing.T, ctx context.Context, conn driver.Conn, now time.Time) {
	t.Helper()
	req, err := report.ParseRequest("shop", goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-06-01"}, now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&report.Runner{Conn: conn, DB: "jc"}).Run(ctx, "paths", req)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(res)
	reg := prometheus.NewRegistry()
	m, err := report.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	stored := &report.Runner{Conn: conn, DB: "jc", StoreBytes: 1 << 26, Metrics: m}
	for run := 1; run <= 2; run++ {
		res, err := stored.Run(ctx, "paths", req)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(res); string(got) != string(want) {
			t.Errorf("paths on the cluster through a store, run %d:\n%s\nwithout one:\n%s", run, got, want)
		}
		counts := map[string]float64{}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if len(f.GetMetric()) == 1 && f.GetMetric()[0].GetCounter() != nil {
				counts[f.GetName()] = f.GetMetric()[0].GetCounter().GetValue()
			}
		}
		if h, ms, u := counts["journeyd_report_store_hits_total"], counts["journeyd_report_store_misses_total"], counts["journeyd_report_store_unsettled_total"]; h != 0 || ms != float64(151*run) || u != float64(151*run) {
			t.Errorf("after run %d on the cluster the store counts %v hits, %v misses, %v unsettled days; want 0, %d, %d", run, h, ms, u, 151*run, 151*run)
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

// --replicated only means something for a cluster's schema: alone it is refused, saying so.
func TestMigrateReplicatedNeedsCluster(t *testing.T) {
	err := runMigrate(context.Background(), []string{"--sql", "18.16", "--replicated", "--clickhouse", "clickhouse://127.0.0.1:1/jd"})
	if err == nil || !strings.Contains(err.Error(), "--replicated needs --cluster") {
		t.Fatalf("journeyd migrate --sql 18.16 --replicated: %v, want an error naming --cluster", err)
	}
}
