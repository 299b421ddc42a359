package collector

import (
	"bytes"
	"testing"

	"github.com/journeyd/journeyd/collector/pixel"

	"github.com/valyala/fasthttp"
)

// FuzzHandlers sends arbitrary requests to the ingestion endpoints: every answer must be
// one of the documented ones, and the pixel must always answer with the GIF.
func FuzzHandlers(f *testing.F) {
	f.Add(uint8(0), "s=shop&t=event&ts=1&p.a=b", []byte(nil), false)
	f.Add(uint8(1), "", []byte(beaconBody), false)
	f.Add(uint8(2), "", []byte(segmentBody), false)
	f.Add(uint8(3), "", []byte(`{"userId":"u","event":"e","timestamp":"x"}`), true)
	srv, _ := newBenchServer(f)
	handler := srv.Handler()
	paths := []string{"/p.gif", "/e", "/v1/batch", "/v1/track", "/v1/alias"}
	documented := map[int]bool{200: true, 204: true, 400: true, 401: true, 403: true, 405: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, which uint8, query string, body []byte, gzipped bool) {
		path := paths[int(which)%len(paths)]
		var headers []string
		if path != "/p.gif" {
			headers = []string{"Origin", "https://shop.example", "X-Write-Key", shopKey}
		}
		if gzipped {
			body = gz(t, body)
			headers = append(headers, "Content-Encoding", "gzip")
		}
		ctx := postCtx(path+"?"+query, string(body), headers...)
		if path == "/p.gif" {
			ctx.Request.Header.SetMethod("GET")
		}
		handler(ctx)
		code := ctx.Response.StatusCode()
		if path == "/p.gif" && (code != fasthttp.StatusOK || !bytes.Equal(ctx.Response.Body(), pixel.GIF)) {
			t.Fatalf("pixel answered %d %q", code, ctx.Response.Body())
		}
		if !documented[code] {
			t.Fatalf("%s answered %d: %s", path, code, ctx.Response.Body())
		}
	})
}
