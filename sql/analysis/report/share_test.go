package report

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// The dashboard's journey panels: the same site, period, filter, key (channel) and
// conversion, so the same touchpoints SQL; attribution's 30-day lookback is applied in Go.
var journeyPanels = []struct {
	name string
	opts map[string]string
}{
	{"attribution", map[string]string{"model": "all", "lookback": "30d"}},
	{"paths", map[string]string{"top": "20"}},
	{"time-to-convert", map[string]string{}},
}

// panelRequest returns a fresh request of the planted traffic's whole period with opts.
func panelRequest(t *testing.T, opts map[string]string) *Request {
	t.Helper()
	all := map[string]string{"from": "2026-01-01", "to": "2026-04-01"}
	for k, v := range opts {
		all[k] = v
	}
	req, err := ParseRequest("shop", goal.Definitions{}, all, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// runJSON runs report name for req and returns its JSON answer.
func runJSON(ctx context.Context, r *Runner, name string, req *Request) (string, error) {
	res, err := r.Run(ctx, name, req)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(res.JSON())
	return string(b), err
}

// selectQueries returns how many SELECT queries the server has started (system.events),
// this one included.
func selectQueries(t *testing.T, conn driver.Conn) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT value FROM system.events WHERE event = 'SelectQuery'").Scan(&n); err != nil {
		t.Fatalf("cannot count the server's SELECT queries: %v", err)
	}
	return n
}

// queriesSince returns how many SELECT queries the server started since the count was
// before (selectQueries), not counting the queries that read the count.
func queriesSince(t *testing.T, conn driver.Conn, before, offset uint64) uint64 {
	t.Helper()
	return selectQueries(t, conn) - before - offset
}

// readQueries is how many queries one touchpoints read runs for the requests of these
// tests (whole days, no filter): from the sessions, person_links, then touch_rows' two parts
// (its sessions' and its events' rows, readRows).
const readQueries = 3

// stuck is how long a test waits for what should take well under a second before it calls
// the readers stuck: a bound on a hang, not a timing assertion.
const stuck = 2 * time.Minute

// waitMembers waits until the read of the touchpoints SQL of req open to joiners has n
// members, and returns it.
func waitMembers(t *testing.T, r *Runner, req *Request, n int) *sharedRead {
	t.Helper()
	p, err := r.touchpointParams(req)
	if err != nil {
		t.Fatal(err)
	}
	_, sql, _, _, _, err := r.touchpointsSQL(p)
	if err != nil {
		t.Fatal(err)
	}
	for began := time.Now(); ; {
		r.sharesMu.Lock()
		read, have := r.shares[sql], -1
		if read != nil {
			have = len(read.members)
		}
		r.sharesMu.Unlock()
		if have == n {
			return read
		}
		if time.Since(began) > stuck {
			t.Fatalf("the read open to joiners has %d members, want %d: the readers did not join one read", have, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestJourneyReportsShareOneRead: attribution (all eight models), paths and
// time-to-convert asked for at once, as the dashboard asks, read the touchpoints once and
// answer exactly what each answers alone; of two more readers of the same rows, one whose
// context ends while the read waits for its turn and one whose context ends after its
// first journey, neither disturbs the others.
//
// The server counts the SELECT queries it starts (system.events SelectQuery). Alone, the
// three reports run three touchpoints queries (one each: they read nothing else). Together,
// with the Runner's only turn held until all five readers have joined, they run one.
func TestJourneyReportsShareOneRead(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, plantJourneys(3000)) // about 9 000 touch groups: several batches
	r := &Runner{Conn: conn, DB: db, MaxConcurrent: 1}
	ctx := context.Background()

	// Two readings of the count in a row: what reading it adds.
	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset

	before := selectQueries(t, conn)
	alone := map[string]string{}
	for _, p := range journeyPanels {
		got, err := runJSON(ctx, r, p.name, panelRequest(t, p.opts))
		if err != nil {
			t.Fatal(err)
		}
		alone[p.name] = got
	}
	if n := queriesSince(t, conn, before, offset); n != 3*readQueries {
		t.Fatalf("the three reports one after the other ran %d queries, want %d (one touchpoints read each)", n, 3*readQueries)
	}
	if !strings.Contains(alone["attribution"], "shapley") || !strings.Contains(alone["paths"], "Organic Search") {
		t.Fatalf("the reports alone answered nothing to compare: %s, %s", alone["attribution"], alone["paths"])
	}

	endTurn, err := r.turn(ctx) // the read waits for this turn until every reader has joined
	if err != nil {
		t.Fatal(err)
	}
	before = selectQueries(t, conn)
	type answer struct {
		name, json string
		err        error
	}
	answers := make(chan answer, len(journeyPanels))
	for _, p := range journeyPanels {
		req := panelRequest(t, p.opts)
		go func() {
			got, err := runJSON(ctx, r, p.name, req)
			answers <- answer{p.name, got, err}
		}()
	}
	waiting, giveUp := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	waitingReq := panelRequest(t, map[string]string{"model": "all"})
	go func() { _, err := runJSON(waiting, r, "attribution", waitingReq); gaveUp <- err }()
	streaming, stop := context.WithCancel(ctx)
	journeys := 0
	stopped := make(chan error, 1)
	streamingReq := panelRequest(t, nil)
	go func() {
		stopped <- r.eachJourney(streaming, streamingReq, func(*cutJourney) { journeys++; stop() })
	}()
	req := panelRequest(t, nil)
	read := waitMembers(t, r, req, 5)
	giveUp()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("the reader that gave up while the read waited: %v, want context.Canceled", err)
	}
	r.sharesMu.Lock()
	members, open := len(read.members), read.open
	r.sharesMu.Unlock()
	if members != 4 || !open {
		t.Fatalf("after one reader gave up, the read has %d members (open to joiners: %v), want the other 4, still open", members, open)
	}
	endTurn()

	if err := <-stopped; !errors.Is(err, context.Canceled) || journeys == 0 {
		t.Fatalf("the reader that stopped after its first journey: %v after %d journeys, want context.Canceled after at least 1", err, journeys)
	}
	for range journeyPanels {
		var a answer
		select {
		case a = <-answers:
		case <-time.After(stuck):
			t.Fatalf("the three reports did not answer: their read waits for a reader that left")
		}
		if a.err != nil {
			t.Fatalf("%s together with the others: %v", a.name, a.err)
		}
		if a.json != alone[a.name] {
			t.Errorf("%s together with the others answered\n%s\nalone\n%s", a.name, a.json, alone[a.name])
		}
	}
	if n := queriesSince(t, conn, before, offset); n != readQueries {
		t.Errorf("the three reports and two readers together ran %d queries, want %d: one shared touchpoints read", n, readQueries)
	}
}

// TestSharedReadErrorReachesEveryMember: with a 64 KiB memory bound the touchpoints query
// fails (ClickHouse code 241, as TestReportsAreMemoryBound in cmd/journeyd/gen shows for
// attribution), and every report that joined the read gets that error.
func TestSharedReadErrorReachesEveryMember(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, plantJourneys(300))
	r := &Runner{Conn: conn, DB: db, MaxConcurrent: 1, MaxMemory: 64 << 10}
	ctx := context.Background()
	endTurn, err := r.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(journeyPanels))
	for _, p := range journeyPanels {
		req := panelRequest(t, p.opts)
		go func() { _, err := runJSON(ctx, r, p.name, req); errs <- err }()
	}
	waitMembers(t, r, panelRequest(t, nil), len(journeyPanels))
	endTurn()
	for range journeyPanels {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "241") {
			t.Errorf("a report of the failing shared read: %v, want ClickHouse's memory limit (code 241)", err)
		}
	}
}

// TestLateReaderRunsItsOwnRead: a reader that comes once a read has handed out its first
// batch must not get the rest alone; it runs a read of its own and answers in full. The
// first reader holds its first journey until the late one has answered.
func TestLateReaderRunsItsOwnRead(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, plantJourneys(3000))
	r := &Runner{Conn: conn, DB: db, MaxConcurrent: 2}
	ctx := context.Background()
	alone, err := runJSON(ctx, r, "paths", panelRequest(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	wantJourneys := 0
	if err := r.eachJourney(ctx, panelRequest(t, nil), func(*cutJourney) { wantJourneys++ }); err != nil {
		t.Fatal(err)
	}

	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset
	before := selectQueries(t, conn)
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	journeys := 0
	firstReq := panelRequest(t, nil)
	go func() {
		first <- r.eachJourney(ctx, firstReq, func(*cutJourney) {
			if journeys == 0 {
				close(started)
				<-release
			}
			journeys++
		})
	}()
	<-started
	type answer struct {
		json string
		err  error
	}
	lateAnswer := make(chan answer, 1)
	lateReq := panelRequest(t, nil)
	go func() { got, err := runJSON(ctx, r, "paths", lateReq); lateAnswer <- answer{got, err} }()
	var late string
	select {
	case a := <-lateAnswer:
		if a.err != nil {
			t.Fatalf("paths after the read began handing out people: %v", a.err)
		}
		late = a.json
	case <-time.After(stuck):
		close(release)
		t.Fatalf("paths after the read began handing out people did not answer while the first reader held its journey: it joined that read, which waits for the first reader")
	}
	if late != alone {
		t.Errorf("paths after the read began handing out people answered\n%s\nalone\n%s", late, alone)
	}
	close(release)
	if err := <-first; err != nil || journeys != wantJourneys {
		t.Errorf("the first reader: %v after %d journeys, want all %d", err, journeys, wantJourneys)
	}
	if n := queriesSince(t, conn, before, offset); n != 2*readQueries {
		t.Errorf("the first and the late reader ran %d queries, want %d: one read each", n, 2*readQueries)
	}
}
