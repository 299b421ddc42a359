package collector

import (
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// beaconBody is a typical snippet batch: ten events, without ids so that none is a duplicate.
var beaconBody = `{"site":"shop","aid":"anon-123","sid":"sess-9","sent":1748779200000,"events":[` +
	strings.Repeat(`{"type":"pageview","ts":1748779195000,"url":"https://shop.example/p/42","title":"Product 42","props":{"plan":"pro"}},`, 9) +
	`{"type":"event","name":"add_to_cart","ts":1748779199000,"revenue":19.9,"currency":"EUR"}]}`

// segmentBody is a typical server batch of ten messages.
var segmentBody = `{"sentAt":"2025-06-01T12:00:10Z","context":{"library":{"name":"analytics-go"}},"batch":[` +
	strings.Repeat(`{"type":"track","userId":"u-1","event":"Order Paid","timestamp":"2025-06-01T12:00:05Z","properties":{"revenue":10,"currency":"EUR"},"context":{"ip":"203.0.113.7"}},`, 9) +
	`{"type":"identify","userId":"u-1","anonymousId":"anon-123"}]}`

func postCtx(path, body string, headers ...string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI(path)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	req.SetBodyString(body)
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 5555}, nil)
	return ctx
}

// TestBatchAllocs pins the allocations of a ten-event batch, without enrichment: the
// events' own strings and properties, and a generated id each.
func TestBatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector: the plain run checks them")
	}
	f := func(name string, ctx *fasthttp.RequestCtx, wantStatus int, budget float64) {
		t.Helper()
		srv, sink := newBenchServer(t)
		handler := srv.Handler()
		allocs := testing.AllocsPerRun(500, func() {
			ctx.Response.Reset()
			handler(ctx)
		})
		if ctx.Response.StatusCode() != wantStatus || sink.n.Load() < 5000 {
			t.Fatalf("%s: status %d, %d events stored: %s", name, ctx.Response.StatusCode(), sink.n.Load(), ctx.Response.Body())
		}
		if allocs > budget {
			t.Fatalf("%s: a ten-event batch allocates %v times, want at most %v", name, allocs, budget)
		}
	}
	f("beacon", postCtx("/e", beaconBody, "Origin", "https://shop.example"), 204, 70)
	f("segment", postCtx("/v1/batch", segmentBody, "X-Write-Key", shopKey), 200, 115)
}

func BenchmarkBeacon(b *testing.B) {
	srv, _ := newBenchServer(b)
	ctx := postCtx("/e", beaconBody, "Origin", "https://shop.example")
	handler := srv.Handler()
	b.ReportAllocs()
	b.SetBytes(int64(len(beaconBody)))
	for b.Loop() {
		ctx.Response.Reset()
		handler(ctx)
	}
}

func BenchmarkSegmentBatch(b *testing.B) {
	srv, _ := newBenchServer(b)
	ctx := postCtx("/v1/batch", segmentBody, "X-Write-Key", shopKey)
	handler := srv.Handler()
	b.ReportAllocs()
	b.SetBytes(int64(len(segmentBody)))
	for b.Loop() {
		ctx.Response.Reset()
		handler(ctx)
	}
}
