package collector

import (
	"bytes"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/pixel"
)

// tp2Body is a typical Snowplow browser batch: nine page views with the web_page context and
// a structured event, without event ids so that none is a duplicate.
var tp2Body = `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` +
	strings.Repeat(`{"e":"pv","aid":"shop","tv":"js-4.10.1","p":"web","duid":"d-123","sid":"s-9","url":"https://shop.example/p/42","page":"Product 42","dtm":"1748779195000","stm":"1748779200000","co":"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0\",\"data\":{\"id\":\"wp-1\"}}]}"},`, 9) +
	`{"e":"se","aid":"shop","tv":"js-4.10.1","duid":"d-123","sid":"s-9","se_ca":"cart","se_ac":"add","se_va":"19.9","dtm":"1748779199000","stm":"1748779200000"}]}`

// TestSnowplowAllocs pins the allocations of a ten-event tp2 batch, without enrichment: the
// events' own strings and properties, and a generated id each, as for the snippet's batch.
func TestSnowplowAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector: the plain run checks them")
	}
	srv, sink := newBenchServer(t)
	handler := srv.Handler()
	ctx := postCtx("/com.snowplowanalytics.snowplow/tp2", tp2Body, "Origin", "https://shop.example")
	allocs := testing.AllocsPerRun(500, func() {
		ctx.Response.Reset()
		handler(ctx)
	})
	if ctx.Response.StatusCode() != 200 || sink.n.Load() < 5000 {
		t.Fatalf("status %d, %d events stored: %s", ctx.Response.StatusCode(), sink.n.Load(), ctx.Response.Body())
	}
	// Per page view: a generated id, anon id, session id, url, title, the two property slices
	// and the context's key and value: 9 (the tracker version and schema names are interned).
	// The structured event about as many: 105 measured, for ten events.
	const budget = 110
	if allocs > budget {
		t.Fatalf("a ten-event tp2 batch allocates %v times, want at most %v", allocs, budget)
	}
}

func BenchmarkSnowplowTP2(b *testing.B) {
	srv, _ := newBenchServer(b)
	ctx := postCtx("/com.snowplowanalytics.snowplow/tp2", tp2Body, "Origin", "https://shop.example")
	handler := srv.Handler()
	b.ReportAllocs()
	b.SetBytes(int64(len(tp2Body)))
	for b.Loop() {
		ctx.Response.Reset()
		handler(ctx)
	}
}

// FuzzTrackerHandlers sends arbitrary requests to the browser trackers' endpoints: every
// answer must be a documented one, and GET /i must always answer with the GIF.
func FuzzTrackerHandlers(f *testing.F) {
	f.Add(uint8(0), "", []byte(tp2Body), "https://shop.example")
	f.Add(uint8(1), "e=pv&aid=shop&url=x", []byte(nil), "")
	f.Add(uint8(2), "", []byte(`{"type":"track","event":"e","anonymousId":"a","writeKey":"`+shopKey+`"}`), "https://shop.example")
	f.Add(uint8(3), "writeKey="+shopKey, []byte(nil), "https://evil.example")
	f.Add(uint8(4), "", []byte(nil), "https://shop.example")
	srv, _ := newBenchServer(f)
	handler := srv.Handler()
	paths := []string{"/com.snowplowanalytics.snowplow/tp2", "/i", "/v1/t", "/sourceConfig/", "/v1/projects/" + shopKey + "/settings", "/v1/b"}
	documented := map[int]bool{200: true, 204: true, 400: true, 401: true, 403: true, 404: true, 405: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, which uint8, query string, body []byte, origin string) {
		path := paths[int(which)%len(paths)]
		ctx := postCtx(path, string(body), "Origin", origin)
		ctx.Request.URI().SetQueryString(query)
		switch {
		case path == "/i" || strings.HasPrefix(path, "/v1/projects/") || path == "/sourceConfig/":
			ctx.Request.Header.SetMethod("GET")
		case which >= 128:
			ctx.Request.Header.SetMethod("OPTIONS")
		}
		handler(ctx)
		code := ctx.Response.StatusCode()
		if path == "/i" && (code != fasthttp.StatusOK || !bytes.Equal(ctx.Response.Body(), pixel.GIF)) {
			t.Fatalf("GET /i answered %d %q", code, ctx.Response.Body())
		}
		if !documented[code] {
			t.Fatalf("%s answered %d: %s", path, code, ctx.Response.Body())
		}
	})
}
