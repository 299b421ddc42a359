package snippet

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

const (
	cacheShort     = "public, max-age=86400"
	cacheImmutable = "public, max-age=31536000, immutable"
)

// Match reports whether path is one that Handler serves: /t.js, /t.full.js, or either
// with a version, /t.<hash>.js and /t.full.<hash>.js.
func Match(path []byte) bool {
	a, _ := lookup(path)
	return a != nil
}

// Handler serves the tracker builds at the paths Match accepts, and 404 elsewhere. It
// answers GET and HEAD, gzipped when Accept-Encoding allows, with an ETag (304 on a
// matching If-None-Match) and Cache-Control: a day for /t.js, a year (immutable) for the
// current versioned URL. An old version's URL gets the current script with the short cache.
func Handler(ctx *fasthttp.RequestCtx) {
	a, immutable := lookup(ctx.Path())
	if a == nil {
		ctx.Error("not found: the tracker is at /t.js", fasthttp.StatusNotFound)
		return
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		ctx.Error("method not allowed: use GET", fasthttp.StatusMethodNotAllowed)
		return
	}
	h := &ctx.Response.Header
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", a.etag)
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	if immutable {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheShort)
	}
	if etagMatches(ctx.Request.Header.Peek("If-None-Match"), a.etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	h.SetContentType("text/javascript; charset=utf-8")
	if acceptsGzip(ctx.Request.Header.Peek("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		ctx.SetBody(a.gz)
		return
	}
	ctx.SetBody(a.raw)
}

// lookup finds the build for path and whether path is its current versioned URL.
func lookup(path []byte) (a *asset, immutable bool) {
	if len(path) < 5 || !bytes.HasPrefix(path, []byte("/t")) || !bytes.HasSuffix(path, []byte(".js")) {
		return nil, false
	}
	mid := path[2 : len(path)-3] // "", ".full", ".<hash>" or ".full.<hash>"
	a = defaultAsset
	if rest, ok := bytes.CutPrefix(mid, []byte(".full")); ok {
		a, mid = fullAsset, rest
	}
	if len(mid) == 0 {
		return a, false
	}
	v := mid[1:]
	if mid[0] != '.' || len(v) == 0 || len(v) > 64 || !isHex(v) {
		return nil, false
	}
	return a, string(v) == a.hash
}

func isHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip: a "gzip" or
// "*" coding whose q is not zero.
func acceptsGzip(v []byte) bool {
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte(","))
		coding, params, _ := bytes.Cut(item, []byte(";"))
		coding = bytes.TrimSpace(coding)
		if !bytes.EqualFold(coding, []byte("gzip")) && !bytes.Equal(coding, []byte("*")) {
			continue
		}
		if !qIsZero(params) {
			return true
		}
	}
	return false
}

// qIsZero reports whether header parameters say q=0 (or 0.0, 0.00, 0.000).
func qIsZero(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		k, val, _ := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if !bytes.EqualFold(bytes.TrimSpace(k), []byte("q")) {
			continue
		}
		val = bytes.TrimSpace(val)
		if len(val) == 0 || val[0] != '0' {
			return false
		}
		frac, dot := bytes.CutPrefix(val[1:], []byte("."))
		return (len(val) == 1 || dot) && len(bytes.Trim(frac, "0")) == 0
	}
	return false
}

// etagMatches reports whether an If-None-Match value matches etag by the weak comparison
// of RFC 9110: "*", or any listed tag with the same opaque part.
func etagMatches(v []byte, etag string) bool {
	want := bytes.TrimPrefix([]byte(etag), []byte("W/"))
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		t = bytes.TrimSpace(t)
		if bytes.Equal(t, []byte("*")) || bytes.Equal(bytes.TrimPrefix(t, []byte("W/")), want) {
			return true
		}
	}
	return false
}
