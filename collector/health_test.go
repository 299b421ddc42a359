package collector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event"
)

func TestHealth(t *testing.T) {
	var readyErr error
	h := newHarness(t, func(c *Config) {
		c.Ready = func(context.Context) error { return readyErr }
	})
	f := func(path string, wantCode int, wantBody string) {
		t.Helper()
		resp := h.do("GET", path, nil)
		if resp.StatusCode() != wantCode || !strings.Contains(string(resp.Body()), wantBody) {
			t.Fatalf("GET %s: %d %.300s; want %d containing %q", path, resp.StatusCode(), resp.Body(), wantCode, wantBody)
		}
	}
	f("/healthz", 200, "ok")
	f("/readyz", 200, "ready")
	readyErr = errors.New("cannot reach ClickHouse at 127.0.0.1:9000")
	f("/readyz", 503, "not ready: cannot reach ClickHouse")
	f("/healthz", 200, "ok")
	h.do("GET", "/p.gif?s=nope", nil)
	f("/metrics", 200, `journeyd_collector_rejected_total{endpoint="pixel",reason="unknown_site"} 1`)
	f("/metrics", 200, `journeyd_collector_requests_total{code="503",endpoint="readyz"} 1`)
}

func TestHandle(t *testing.T) {
	h := newHarness(t)
	var got []string
	var o *Endpoint
	o = h.srv.Handle("/o/", func(ctx *fasthttp.RequestCtx) {
		got = append(got, "o:"+string(ctx.Path()))
		req := h.srv.EnrichRequest(ctx, h.srv.sites.ByID("shop"))
		if err := h.srv.Ingest(o, []event.Event{{Type: event.TypeEmailOpen, Name: "welcome"}}, &req); err != nil {
			t.Errorf("Ingest: %v", err)
		}
	})
	h.srv.Handle("/o/special/", func(ctx *fasthttp.RequestCtx) { got = append(got, "special") })
	h.srv.Handle("/t.js", func(ctx *fasthttp.RequestCtx) { got = append(got, "t.js") })
	h.do("GET", "/o/abc.gif", nil)
	h.do("GET", "/o/special/x", nil)
	h.do("GET", "/t.js", nil)
	h.do("GET", "/t.jsx", nil)
	if strings.Join(got, ",") != "o:/o/abc.gif,special,t.js" {
		t.Fatalf("routed: %v", got)
	}
	evs := h.sink.take()
	if len(evs) != 1 || evs[0].SiteID != "shop" || evs[0].ID == "" || evs[0].AnonID == "" || !evs[0].TS.Equal(testNow) {
		t.Fatalf("ingested: %+v", evs)
	}
	if h.counter(accepted, "o") != 1 || h.counter(received, "o") != 1 {
		t.Fatal("the ingested event was not counted under endpoint o")
	}
}
