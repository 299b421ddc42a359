// Package bench holds the benchmark harnesses behind make bench (deploy/bench.sh): the
// pixel and server API throughput of a journeyd serve against a bare fasthttp server that
// answers the same GIF (journeyd bench, bench-baseline), and the reports' times on
// synthetic events against one plain pass over them (journeyd bench-reports). It is a
// tool beside the product: cmd/journeyd registers its subcommands, and nothing the server
// runs imports it. docs/BENCHMARKS.md holds the figures.
package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/pixel"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// benchOptions are the flags of journeyd bench.
type benchOptions struct {
	clickhouse  string
	duration    time.Duration
	connections int
	rounds      int
	apiEvents   int
	wrk         string
	serveFlags  string
	chPID       int
}

// Run is journeyd bench: it starts a bare fasthttp server (this binary's bench-baseline)
// and a journeyd serve on an emptied database, loads both alternately with wrk's pixels,
// then posts events through /v1/batch, and prints the figures. args are its flags.
func Run(ctx context.Context, args []string) error {
	var o benchOptions
	fs := flag.NewFlagSet("journeyd bench", flag.ContinueOnError)
	fs.StringVar(&o.clickhouse, "clickhouse", "clickhouse://127.0.0.1:19000/journeyd_bench", "ClickHouse DSN for the journeyd under test (its database is emptied)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each load run")
	fs.IntVar(&o.connections, "connections", 64, "concurrent connections of the load generator")
	fs.IntVar(&o.rounds, "rounds", 3, "alternating rounds of baseline and journeyd; each ratio is the median of the rounds' ratios")
	fs.IntVar(&o.apiEvents, "api-events", 500000, "events sent through /v1/batch")
	fs.StringVar(&o.wrk, "wrk", "wrk", "the wrk load generator")
	fs.StringVar(&o.serveFlags, "serve-flags", "", "extra flags of the journeyd serve under test, space separated (e.g. \"--batch-size 50000\")")
	fs.IntVar(&o.chPID, "clickhouse-pid", 0, "process id of a local ClickHouse server, to report its CPU per pixel too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := newBench(ctx, o)
	if err != nil {
		return err
	}
	defer b.stop()
	return b.run(ctx)
}

// bench holds the processes of one benchmark run.
type bench struct {
	o        benchOptions
	dir      string
	baseline string // host:port
	journeyd string
	procs    []*exec.Cmd
}

func newBench(ctx context.Context, o benchOptions) (*bench, error) {
	dir, err := os.MkdirTemp("", "journeyd-bench-")
	if err != nil {
		return nil, fmt.Errorf("cannot create bench directory: %w", err)
	}
	b := &bench{o: o, dir: dir}
	if err := b.dropDatabase(ctx); err != nil {
		return nil, err
	}
	if b.baseline, err = b.start("bench-baseline"); err != nil {
		b.stop()
		return nil, err
	}
	cfg := filepath.Join(dir, "bench.yaml")
	site := "sites:\n  - id: bench\n    write_keys: [bench-write-key]\n"
	if err := os.WriteFile(cfg, []byte(site), 0o600); err != nil {
		b.stop()
		return nil, fmt.Errorf("cannot write bench config: %w", err)
	}
	if b.journeyd, err = b.start(append([]string{"serve", "--config", cfg, "--clickhouse", o.clickhouse, "--log-level", "warn",
		"--spool-dir", filepath.Join(dir, "spool"), "--dead-letter", filepath.Join(dir, "dead-letter.jsonl")}, strings.Fields(o.serveFlags)...)...); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

func (b *bench) dropDatabase(ctx context.Context) error {
	opt, err := clickhouse.Options(b.o.clickhouse)
	if err != nil {
		return err
	}
	onDefault, err := clickhouse.OnDatabase(b.o.clickhouse, "default")
	if err != nil {
		return err
	}
	conn, err := clickhouse.Open(ctx, onDefault)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+opt.Auth.Database); err != nil {
		return fmt.Errorf("cannot drop bench database %s: %w", opt.Auth.Database, err)
	}
	return nil
}

// start runs this binary with args plus --listen on a free port and waits for /healthz.
func (b *bench) start(args ...string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the journeyd binary: %w", err)
	}
	cmd := exec.Command(exe, append(args, "--listen", addr)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("cannot start %s: %w", args[0], err)
	}
	b.procs = append(b.procs, cmd)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, nil
			}
		}
	}
	return "", fmt.Errorf("cannot start %s: /healthz on %s did not answer within 60s", args[0], addr)
}

func (b *bench) stop() {
	for _, p := range b.procs {
		p.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			p.Process.Kill()
		}
	}
	os.RemoveAll(b.dir)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cannot find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Baseline is journeyd bench-baseline: a bare fasthttp server that answers every request
// with the pixel's GIF (and /healthz with ok), what Run compares journeyd against. args are
// its flags.
func Baseline(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("journeyd bench-baseline", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/healthz" {
			ctx.SetBodyString("ok")
			return
		}
		ctx.SetContentType("image/gif")
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.SetBody(pixel.GIF)
	}, NoDefaultServerHeader: true}
	go func() { <-ctx.Done(); srv.Shutdown() }()
	return srv.ListenAndServe(*listen)
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
)

// pixelLua is the wrk script of pixel hits for site: 100 000 visitors, 50 pages.
func pixelLua(site string) string {
	return `local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/p.gif?s=` + site + `&a=visitor-" .. (n % 100000) .. "&u=https%3A%2F%2Fshop.example%2Fproduct%2F" .. (n % 50) .. "%3Futm_source%3Dbench%26utm_medium%3Dcpc&r=https%3A%2F%2Fwww.google.com%2F")
end
`
}

// tp2Lua is the wrk script of Snowplow tracker posts for site, as the browser tracker sends
// them by default (one page view a request, with its web_page context): 100 000 visitors,
// 50 pages.
func tp2Lua(site string) string {
	return `local n = 0
local headers = {["Content-Type"] = "application/json; charset=UTF-8"}
request = function()
  n = n + 1
  local body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","aid":"` + site + `","p":"web","tv":"js-bench","duid":"visitor-' .. (n % 100000) .. '","sid":"session-' .. (n % 100000) .. '","url":"https://shop.example/product/' .. (n % 50) .. '?utm_source=bench&utm_medium=cpc","refr":"https://www.google.com/","page":"Product","dtm":"1748779195000","stm":"1748779195100","co":"{\\"schema\\":\\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\\",\\"data\\":[{\\"schema\\":\\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0\\",\\"data\\":{\\"id\\":\\"wp-' .. n .. '\\"}}]}"}]}'
  return wrk.format("POST", "/com.snowplowanalytics.snowplow/tp2", headers, body)
end
`
}

// wrkRun loads addr with the wrk script lua, saved as name, and returns requests/s, total
// requests and the CPU time wrk used.
func (b *bench) wrkRun(ctx context.Context, addr, name, lua string) (float64, int64, time.Duration, error) {
	script := filepath.Join(b.dir, name+".lua")
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return 0, 0, 0, fmt.Errorf("cannot write wrk script: %w", err)
	}
	cmd := exec.CommandContext(ctx, b.o.wrk, "-t1", "-c"+strconv.Itoa(b.o.connections),
		"-d"+b.o.duration.String(), "-s", script, "http://"+addr+"/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("cannot run %s against %s: %w\n%s", b.o.wrk, addr, err, out)
	}
	rate, n := wrkRate.FindSubmatch(out), wrkRequests.FindSubmatch(out)
	if rate == nil || n == nil {
		return 0, 0, 0, fmt.Errorf("cannot read the output of wrk:\n%s", out)
	}
	r, _ := strconv.ParseFloat(string(rate[1]), 64)
	total, _ := strconv.ParseInt(string(n[1]), 10, 64)
	return r, total, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// loads sums the wrk runs of one kind over the rounds: their rates, requests, and the CPU
// time wrk and the server under test used.
type loads struct {
	rates    []float64
	requests int64
	wrk, cpu time.Duration
}

// load runs wrk with the pixels of site against addr and adds the run to l, with the CPU
// time pid used meanwhile.
func (b *bench) load(ctx context.Context, l *loads, addr, site string, pid int) error {
	return b.loadScript(ctx, l, addr, site, pixelLua(site), pid)
}

// loadScript runs wrk with the script lua (saved as name) against addr and adds the run to
// l, with the CPU time pid used meanwhile.
func (b *bench) loadScript(ctx context.Context, l *loads, addr, name, lua string, pid int) error {
	c0 := procCPU(pid)
	r, n, wrk, err := b.wrkRun(ctx, addr, name, lua)
	if err != nil {
		return err
	}
	l.rates, l.requests, l.wrk, l.cpu = append(l.rates, r), l.requests+n, l.wrk+wrk, l.cpu+procCPU(pid)-c0
	return nil
}

// perRequest returns d per request of l in microseconds.
func (l *loads) perRequest(d time.Duration) float64 {
	return float64(d.Microseconds()) / float64(max(l.requests, 1))
}

func (b *bench) run(ctx context.Context) error {
	var base, jd, refused loads
	var chCPU time.Duration
	var landed int64
	var lag time.Duration
	for i := 0; i < b.o.rounds; i++ {
		if err := b.load(ctx, &base, b.baseline, "bench", b.procs[0].Process.Pid); err != nil {
			return err
		}
		// The same pixels for a site journeyd does not know: answered with the GIF after
		// the query is parsed and the site looked up, and counted, but no event is made.
		// What journeyd's HTTP side costs before any enrichment or pipeline.
		if err := b.load(ctx, &refused, b.journeyd, "unknown-site", b.procs[1].Process.Pid); err != nil {
			return err
		}
		c0 := procCPU(b.o.chPID)
		if err := b.load(ctx, &jd, b.journeyd, "bench", b.procs[1].Process.Pid); err != nil {
			return err
		}
		// Let ClickHouse finish this round's inserts and merges before the next round, so
		// that no round pays for the one before it; its CPU and journeyd's until then are
		// this round's.
		s0 := procCPU(b.procs[1].Process.Pid)
		var err error
		if landed, lag, err = b.settle(ctx, "type = 'pageview'", jd.requests); err != nil {
			return err
		}
		jd.cpu += procCPU(b.procs[1].Process.Pid) - s0
		chCPU += procCPU(b.o.chPID) - c0
	}
	fmt.Printf("pixel  bare fasthttp %10.0f req/s   journeyd %10.0f req/s   ratio %.2f (median of the rounds')   landed %d of %d (%.1fs after the load)\n",
		median(base.rates), median(jd.rates), medianRatio(jd.rates, base.rates), landed, jd.requests, lag.Seconds())
	fmt.Printf("       CPU per request: bare fasthttp %.1f us + wrk %.1f us;   journeyd %.1f us + wrk %.1f us",
		base.perRequest(base.cpu), base.perRequest(base.wrk), jd.perRequest(jd.cpu), jd.perRequest(jd.wrk))
	if b.o.chPID > 0 {
		fmt.Printf(" + ClickHouse %.1f us (inserts and merges)", jd.perRequest(chCPU))
	}
	fmt.Println()
	fmt.Printf("       journeyd refusing the same pixels (unknown site: no event made) %.0f req/s, ratio %.2f;   CPU per request %.1f us + wrk %.1f us\n",
		median(refused.rates), medianRatio(refused.rates, base.rates), refused.perRequest(refused.cpu), refused.perRequest(refused.wrk))
	if err := b.runTP2(ctx); err != nil {
		return err
	}
	return b.runAPI(ctx)
}

// runTP2 loads the bare server and journeyd alternately with Snowplow tracker posts, like
// the pixels, and prints the figures.
func (b *bench) runTP2(ctx context.Context) error {
	var base, jd loads
	var landed int64
	var lag time.Duration
	for i := 0; i < b.o.rounds; i++ {
		if err := b.loadScript(ctx, &base, b.baseline, "tp2", tp2Lua("bench"), b.procs[0].Process.Pid); err != nil {
			return err
		}
		if err := b.loadScript(ctx, &jd, b.journeyd, "tp2", tp2Lua("bench"), b.procs[1].Process.Pid); err != nil {
			return err
		}
		s0 := procCPU(b.procs[1].Process.Pid)
		var err error
		if landed, lag, err = b.settle(ctx, "lib = 'js-bench'", jd.requests); err != nil {
			return err
		}
		jd.cpu += procCPU(b.procs[1].Process.Pid) - s0
	}
	fmt.Printf("tp2    bare fasthttp %10.0f req/s   journeyd %10.0f req/s   ratio %.2f (median of the rounds')   landed %d of %d (%.1fs after the load)\n",
		median(base.rates), median(jd.rates), medianRatio(jd.rates, base.rates), landed, jd.requests, lag.Seconds())
	fmt.Printf("       CPU per request: bare fasthttp %.1f us + wrk %.1f us;   journeyd %.1f us + wrk %.1f us\n",
		base.perRequest(base.cpu), base.perRequest(base.wrk), jd.perRequest(jd.cpu), jd.perRequest(jd.wrk))
	return nil
}

// procCPU returns the user and system CPU time pid has used, or 0 when it cannot be read
// (no such process, or not Linux).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which may hold spaces, closed by the last ')'.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// settle waits until want rows of the bench site match where and ClickHouse has no merge
// running in the bench database, for at most 120s each, and returns the rows and the
// time the rows took to land.
func (b *bench) settle(ctx context.Context, where string, want int64) (int64, time.Duration, error) {
	landed, lag, err := b.waitRows(ctx, where, want)
	if err != nil {
		return 0, 0, err
	}
	return landed, lag, b.waitMerges(ctx)
}

// waitMerges polls ClickHouse until no merge of the bench's database runs, or 120s pass.
func (b *bench) waitMerges(ctx context.Context) error {
	conn, err := clickhouse.Open(ctx, b.o.clickhouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	for start := time.Now(); time.Since(start) < 120*time.Second; time.Sleep(200 * time.Millisecond) {
		var merges uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&merges); err != nil {
			return fmt.Errorf("cannot count running merges: %w", err)
		}
		if merges == 0 {
			break
		}
	}
	return nil
}

// waitRows polls ClickHouse until want rows of the bench site match where, or 120s pass.
func (b *bench) waitRows(ctx context.Context, where string, want int64) (int64, time.Duration, error) {
	conn, err := clickhouse.Open(ctx, b.o.clickhouse)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	start := time.Now()
	var n uint64
	for time.Since(start) < 120*time.Second {
		q := "SELECT count() FROM (SELECT event_id FROM events WHERE site_id = 'bench' AND " + where + " GROUP BY event_id)"
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			return 0, 0, fmt.Errorf("cannot count bench rows: %w", err)
		}
		if int64(n) >= want {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return int64(n), time.Since(start), nil
}

// medianRatio returns the median over the rounds of a[i]/b[i]. Each round's figures were
// measured minutes apart at most, so the ratios are steadier than the figures: the speed
// of a shared machine drifts between rounds more than within one.
func medianRatio(a, b []float64) float64 {
	r := make([]float64, min(len(a), len(b)))
	for i := range r {
		r[i] = a[i] / max(b[i], 1)
	}
	return median(r)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// runAPI posts apiEvents events through /v1/batch, 100 a call, and times until all landed.
func (b *bench) runAPI(ctx context.Context) error {
	const perBatch, workers = 100, 8
	batches := b.o.apiEvents / perBatch
	var next atomic.Int64
	var failed atomic.Int64
	start, c0 := time.Now(), procCPU(b.o.chPID)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for i := next.Add(1) - 1; i < int64(batches); i = next.Add(1) - 1 {
				if err := postBatch(client, b.journeyd, i, perBatch); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	sentFor := time.Since(start)
	want := int64(batches-int(failed.Load())) * perBatch
	landed, _, err := b.waitRows(ctx, "name = 'bench_api'", want)
	if err != nil {
		return err
	}
	all := time.Since(start)
	fmt.Printf("api    %d events in %d batches (503s retried): accepted in %.1fs (%.0f events/s), landed %d in ClickHouse after %.1fs: %.0f events/s end to end; failed calls %d\n",
		batches*perBatch, batches, sentFor.Seconds(), float64(batches*perBatch)/sentFor.Seconds(), landed, all.Seconds(), float64(landed)/all.Seconds(), failed.Load())
	if b.o.chPID > 0 {
		// Track events, unlike the pixels' page views, are copied into touch_events too
		// (migration 0027): their ClickHouse CPU, the merges that follow included.
		if err := b.waitMerges(ctx); err != nil {
			return err
		}
		fmt.Printf("       ClickHouse CPU per event %.1f us (inserts and merges)\n", float64((procCPU(b.o.chPID)-c0).Microseconds())/float64(max(landed, 1)))
	}
	return nil
}

func postBatch(client *http.Client, addr string, i int64, n int) error {
	var buf bytes.Buffer
	buf.WriteString(`{"writeKey":"bench-write-key","batch":[`)
	for j := 0; j < n; j++ {
		if j > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"type":"track","event":"bench_api","messageId":"m-%d-%d","userId":"user-%d","properties":{"revenue":9.5,"sku":"sku-%d"},"context":{"ip":"203.0.113.7","userAgent":"bench"}}`, i, j, (i*int64(n)+int64(j))%100000, j)
	}
	buf.WriteString(`]}`)
	// Like the Segment SDKs: a 503 (the pipeline is full) is retried after Retry-After.
	for attempt := 0; ; attempt++ {
		resp, err := client.Post("http://"+addr+"/v1/batch", "application/json", bytes.NewReader(buf.Bytes()))
		if err != nil {
			return err
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return nil
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 100:
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		default:
			return fmt.Errorf("batch %d: status %d", i, resp.StatusCode)
		}
	}
}
