package snippet

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/journeyd/journeyd/snippet/internal/bundle"
	"github.com/valyala/fasthttp"
)

// sizeBudget is the most the default build may weigh gzipped (the 1.5 KB).
const sizeBudget = 1536

func TestDefaultBuildSize(t *testing.T) {
	_, gz, _ := Script()
	if len(gz) > sizeBudget {
		t.Fatalf("t.js is %d bytes gzipped, over the budget of %d: shrink src/t.js or move a part to the full build (FULL)", len(gz), sizeBudget)
	}
	t.Logf("t.js: %d bytes gzipped, budget %d", len(gz), sizeBudget)
}

func TestBuildsAreFresh(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("src", "t.js"))
	if err != nil {
		t.Fatal(err)
	}
	embedded := map[string][]byte{"t.min.js": defaultJS, "t.full.min.js": fullJS}
	for _, b := range bundle.Builds {
		want, err := bundle.Minify(src, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(embedded[b.File], want) {
			t.Errorf("%s is stale: run `go generate ./snippet` (or `make snippet`) and commit it", b.File)
		}
	}
}

func TestGzipRoundTrip(t *testing.T) {
	raw, gz, etag := Script()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw) {
		t.Fatal("the gzipped script does not decompress to the script")
	}
	if etag != `W/"`+defaultAsset.hash+`"` || len(defaultAsset.hash) != 12 {
		t.Fatalf("etag %q does not carry the 12-digit hash %q", etag, defaultAsset.hash)
	}
	if defaultAsset.hash == fullAsset.hash {
		t.Fatal("the default and the full build share a hash")
	}
}

// serve runs Handler on one request and returns the response.
func serve(t *testing.T, h fasthttp.RequestHandler, method, uri string, headers ...string) *fasthttp.Response {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	for i := 0; i+1 < len(headers); i += 2 {
		ctx.Request.Header.Set(headers[i], headers[i+1])
	}
	h(&ctx)
	var resp fasthttp.Response
	ctx.Response.CopyTo(&resp)
	return &resp
}

func TestHandler(t *testing.T) {
	raw, gz, etag := Script()
	fullRaw, fullGz, _ := FullScript()
	f := func(method, uri, acceptEncoding, ifNoneMatch string, status int, cache string, body []byte) {
		t.Helper()
		resp := serve(t, Handler, method, uri, "Accept-Encoding", acceptEncoding, "If-None-Match", ifNoneMatch)
		if resp.StatusCode() != status {
			t.Fatalf("%s %s: status %d, want %d", method, uri, resp.StatusCode(), status)
		}
		if got := string(resp.Header.Peek("Cache-Control")); got != cache {
			t.Fatalf("%s %s: Cache-Control %q, want %q", method, uri, got, cache)
		}
		if body != nil && !bytes.Equal(resp.Body(), body) {
			t.Fatalf("%s %s: body of %d bytes is not the expected %d bytes", method, uri, len(resp.Body()), len(body))
		}
		if status == 200 && body != nil {
			gzipped := string(resp.Header.Peek("Content-Encoding")) == "gzip"
			if gzipped != (bytes.Equal(body, gz) || bytes.Equal(body, fullGz)) {
				t.Fatalf("%s %s: Content-Encoding %q does not fit the body", method, uri, resp.Header.Peek("Content-Encoding"))
			}
			if string(resp.Header.Peek("ETag")) == "" || string(resp.Header.Peek("Vary")) != "Accept-Encoding" {
				t.Fatalf("%s %s: missing ETag or Vary", method, uri)
			}
		}
	}
	f("GET", "/t.js", "gzip, deflate, br", "", 200, cacheShort, gz)
	f("GET", "/t.js", "", "", 200, cacheShort, raw)
	f("GET", "/t.js", "br;q=1.0, gzip;q=0", "", 200, cacheShort, raw)
	f("GET", "/t.js", "*", "", 200, cacheShort, gz)
	f("GET", "/t.js", "identity", "", 200, cacheShort, raw)
	f("GET", Path(), "gzip", "", 200, cacheImmutable, gz)
	f("GET", "/t.0123456789ab.js", "gzip", "", 200, cacheShort, gz)
	f("GET", "/t.full.js", "", "", 200, cacheShort, fullRaw)
	f("GET", FullPath(), "gzip", "", 200, cacheImmutable, fullGz)
	f("GET", "/t.js", "gzip", etag, 304, cacheShort, []byte{})
	f("GET", "/t.js", "gzip", `"other", `+etag[2:], 304, cacheShort, []byte{})
	f("GET", "/t.js", "gzip", "*", 304, cacheShort, []byte{})
	f("GET", "/t.js", "gzip", `W/"other"`, 200, cacheShort, gz)
	f("HEAD", "/t.js", "gzip", "", 200, cacheShort, nil)
	f("POST", "/t.js", "", "", 405, "", nil)
	f("GET", "/t.XYZ.js", "", "", 404, "", nil)
	f("GET", "/t..js", "", "", 404, "", nil)
	f("GET", "/tx.js", "", "", 404, "", nil)
	f("GET", "/p.gif", "", "", 404, "", nil)
}

func TestMatch(t *testing.T) {
	f := func(path string, want bool) {
		t.Helper()
		if got := Match([]byte(path)); got != want {
			t.Fatalf("Match(%q) = %v, want %v", path, got, want)
		}
	}
	f("/t.js", true)
	f("/t.full.js", true)
	f(Path(), true)
	f(FullPath(), true)
	f("/t.abc.js", true)
	f("/t.full.abc.js", true)
	f("/t.fullabc.js", false)
	f("/t.js/", false)
	f("/t.ABC.js", false)
	f("/t", false)
	f("/demo/t.js", false)
}

func TestAcceptsGzip(t *testing.T) {
	f := func(header string, want bool) {
		t.Helper()
		if got := acceptsGzip([]byte(header)); got != want {
			t.Fatalf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
	f("", false)
	f("gzip", true)
	f("GZIP", true)
	f("deflate, gzip;q=0.5", true)
	f("gzip;q=0", false)
	f("gzip; q=0.000", false)
	f("gzip;q=0.001", true)
	f("*;q=0", false)
	f("br", false)
	f("x-gzip", false)
}

func TestETagMatches(t *testing.T) {
	f := func(header, etag string, want bool) {
		t.Helper()
		if got := etagMatches([]byte(header), etag); got != want {
			t.Fatalf("etagMatches(%q, %q) = %v, want %v", header, etag, got, want)
		}
	}
	f(`W/"abc"`, `W/"abc"`, true)
	f(`"abc"`, `W/"abc"`, true)
	f(`"x", "abc"`, `W/"abc"`, true)
	f(`*`, `W/"abc"`, true)
	f(`"abcd"`, `W/"abc"`, false)
	f(``, `W/"abc"`, false)
}

func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", "*;q=0.5, br", ";;,,q=", "gzip;q=0.;q=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := acceptsGzip([]byte(s))
		if got && !bytes.Contains(bytes.ToLower([]byte(s)), []byte("gzip")) && !bytes.Contains([]byte(s), []byte("*")) {
			t.Fatalf("acceptsGzip(%q) is true without gzip or *", s)
		}
	})
}

func FuzzETagMatches(f *testing.F) {
	for _, s := range []string{`W/"abc"`, `*`, `"a", "b"`, `,,W/`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if etagMatches([]byte(s), `W/"abc"`) && !bytes.Contains([]byte(s), []byte(`"abc"`)) && !bytes.Contains([]byte(s), []byte("*")) {
			t.Fatalf("etagMatches(%q) is true without the tag or *", s)
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"/t.js", "/t.full.js", "/t.abc.js", "/t.full..js", "/t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Match([]byte(s)) && (len(s) < 5 || s[:2] != "/t" || s[len(s)-3:] != ".js") {
			t.Fatalf("Match(%q) is true for a path outside /t*.js", s)
		}
	})
}

func TestDemo(t *testing.T) {
	h := Demo()
	f := func(uri string, status int, ctype, contains string) {
		t.Helper()
		resp := serve(t, h, "GET", uri)
		if resp.StatusCode() != status {
			t.Fatalf("GET %s: status %d, want %d", uri, resp.StatusCode(), status)
		}
		if got := string(resp.Header.ContentType()); ctype != "" && !bytes.HasPrefix([]byte(got), []byte(ctype)) {
			t.Fatalf("GET %s: Content-Type %q, want %q", uri, got, ctype)
		}
		if !bytes.Contains(resp.Body(), []byte(contains)) {
			t.Fatalf("GET %s: body does not contain %q", uri, contains)
		}
	}
	f("/demo/", 200, "text/html", `<script defer src="/t.js" data-site="demo"></script>`)
	f("/demo/product.html", 200, "text/html", `addToCart(p.id)`)
	f("/demo/checkout.html", 200, "text/html", `journeyd('identify', email`)
	f("/demo/thanks.html", 200, "text/html", `journeyd('event', 'purchase', { revenue: revenue, currency: 'USD', order_id: order`)
	f("/demo/blog.html", 200, "text/html", `href="https://`)
	f("/demo/shop.js", 200, "text/javascript", "PRODUCTS")
	f("/demo/style.css", 200, "text/css", "body")
	f("/demo/prices.csv", 200, "text/csv", "Copper kettle")
	f("/demo", 301, "", "")
	f("/demo/nope.html", 404, "", "")
	f("/demo/../snippet.go", 404, "", "")
	f("/t.js", 404, "", "")
	for _, page := range []string{"index", "product", "cart", "checkout", "thanks", "blog"} {
		f("/demo/"+page+".html", 200, "text/html", `window.journeyd=window.journeyd||function(){(journeyd.q=journeyd.q||[]).push(arguments)}`)
	}
}
