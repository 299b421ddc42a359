package collector

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/journeyd/journeyd/collector/pixel"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event"
)

func TestPixelAlwaysGIF(t *testing.T) {
	h := newHarness(t)
	f := func(uri, wantReject string, headers ...string) {
		t.Helper()
		resp := h.do("GET", uri, nil, headers...)
		if resp.StatusCode() != 200 || !bytes.Equal(resp.Body(), pixel.GIF) || len(resp.Body()) != 43 ||
			string(resp.Header.ContentType()) != "image/gif" || string(resp.Header.Peek("Cache-Control")) != "no-store" {
			t.Fatalf("GET %s: %d %q %q, %d bytes", uri, resp.StatusCode(), resp.Header.ContentType(),
				resp.Header.Peek("Cache-Control"), len(resp.Body()))
		}
		if got := string(resp.Header.Peek(RejectHeader)); got != wantReject {
			t.Fatalf("GET %s: %s %q, want %q", uri, RejectHeader, got, wantReject)
		}
		if wantReject != "" && h.counter(rejected, "pixel", wantReject) == 0 {
			t.Fatalf("GET %s: rejection %q not counted", uri, wantReject)
		}
	}
	f("/p.gif?s=shop&u=https%3A%2F%2Fshop.example%2F&a=a1", "")
	f("/p?s=blog", "")
	f("/p.gif", "no_site")
	f("/p.gif?s=nope", "unknown_site")
	f("/p.gif?s=shop&t=alias", "bad_type")
	f("/p.gif?s=shop", "dnt", "DNT", "1")
	f("/p.gif?s=shop", "dnt", "Sec-GPC", "1")
	f("/p.gif?s=blog", "", "DNT", "1") // blog does not respect DNT
	f("/p.gif?s=shop&id=e1", "")
	f("/p.gif?s=shop&id=e1", "duplicate")
	f("/p.gif?s=shop&u=%ff%fe&ti=%c3%28", "")
	h.sink.setErr(event.ErrFull)
	f("/p.gif?s=shop", "full")
	h.sink.setErr(nil)
	f("/p.gif?s=shop&id=e2", "")
	if n := len(h.sink.take()); n != 6 {
		t.Fatalf("the sink got %d events, want 6", n)
	}
	if got := h.counter(accepted, "pixel"); got != 6 {
		t.Fatalf("accepted = %v, want 6", got)
	}
	if got := h.counter(received, "pixel"); got != 13 {
		t.Fatalf("received = %v, want 13", got)
	}
}

func TestPixelEvent(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/p.gif?s=shop&t=email_open&n=welcome&uid=u1&utm_source=newsletter&utm_medium=email&p.variant=b", nil,
		"Referer", "https://mail.example/inbox", "User-Agent", "Mozilla/5.0")
	h.do("GET", "/p.gif?s=blog&ts=1", nil, "User-Agent", "Mozilla/5.0")
	h.do("GET", "/p.gif?s=blog", nil, "User-Agent", "Mozilla/5.0")
	h.do("GET", "/p.gif?s=blog", nil, "User-Agent", "Other")
	evs := h.sink.take()
	if len(evs) != 4 {
		t.Fatalf("got %d events, want 4", len(evs))
	}
	e := evs[0]
	if e.SiteID != "shop" || e.Type != event.TypeEmailOpen || e.Name != "welcome" || e.UserID != "u1" ||
		e.AnonID != "" || e.URL != "https://mail.example/inbox" || e.Source != "newsletter" || e.Medium != "email" ||
		len(e.ID) != 36 || !e.ReceivedAt.Equal(testNow) || !e.TS.Equal(testNow) || e.Library != "pixel" {
		t.Fatalf("event: %+v", e)
	}
	if v, _ := e.Prop("variant"); v != "b" {
		t.Fatalf("property variant = %q", v)
	}
	// Without ids, the same browser gets the same cookieless id, another browser another.
	a1, a2, a3 := evs[1].AnonID, evs[2].AnonID, evs[3].AnonID
	if len(a1) != 34 || a1 != a2 || a1 == a3 {
		t.Fatalf("cookieless ids %q %q %q: want the first two equal, the third different", a1, a2, a3)
	}
	if v, _ := evs[1].Prop("$ts_clamped"); v != "1" {
		t.Fatalf("absurd ts not kept: %q", v)
	}
	h.advance(24 * 60 * 60 * 1e9)
	h.do("GET", "/p.gif?s=blog", nil, "User-Agent", "Mozilla/5.0")
	if next := h.sink.take()[0].AnonID; next == a1 {
		t.Fatal("the cookieless id did not change the next day")
	}
}

// discardSink counts what it is given; the benchmarks measure the collector alone.
type discardSink struct{ n atomic.Int64 }

func (d *discardSink) Write(_ context.Context, evs []event.Event) error {
	d.n.Add(int64(len(evs)))
	return nil
}

// pixelCtx returns a request context for a pixel hit, as fasthttp would hand it over.
func pixelCtx() *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.SetRequestURI("/p.gif?s=shop&t=pageview&u=https%3A%2F%2Fshop.example%2Fproduct%2F42&a=anon-123&ts=1748779200000")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0")
	req.Header.Set("Referer", "https://shop.example/")
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 5555}, nil)
	return ctx
}

func newBenchServer(tb testing.TB) (*Server, *discardSink) {
	tb.Helper()
	sink := &discardSink{}
	srv, err := New(Config{Sites: testSites(tb), Sink: sink, CookielessSecret: []byte("x")})
	if err != nil {
		tb.Fatal(err)
	}
	return srv, sink
}

// TestPixelAllocs pins the allocations of a pixel hit, without enrichment: the event's own
// strings (url, anonymous id, generated id) and nothing else.
func TestPixelAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector: the plain run checks them")
	}
	srv, sink := newBenchServer(t)
	ctx := pixelCtx()
	handler := srv.Handler()
	allocs := testing.AllocsPerRun(2000, func() {
		ctx.Response.Reset()
		handler(ctx)
	})
	if allocs > 3 {
		t.Fatalf("a pixel hit allocates %v times, want at most 3", allocs)
	}
	if sink.n.Load() < 2000 || ctx.Response.Header.Peek(RejectHeader) != nil {
		t.Fatalf("the sink got %d events, reject %q", sink.n.Load(), ctx.Response.Header.Peek(RejectHeader))
	}
}

func BenchmarkPixel(b *testing.B) {
	srv, _ := newBenchServer(b)
	ctx := pixelCtx()
	handler := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		handler(ctx)
	}
}
