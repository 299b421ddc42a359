// Package dashboard serves the journey dashboard: a single static page (HTML, CSS and
// vanilla JavaScript, embedded in the binary, no build step, nothing fetched from elsewhere)
// at /dashboard/ that draws the reports of GET /api/v1/reports/NAME and the journeys of GET
// /api/v1/person as tables and hand-drawn SVG: the overview against the previous period,
// the top lists whose rows filter every panel, channels, funnel with barriers and who
// dropped, attribution, paths and the journey map as flows, time to convert, retention and
// a person's timeline. The view (site, period, filter, panel settings) lives in the URL's
// hash, so a link reproduces it; every panel exports the rows it drew as CSV.
//
// The page holds no data, so serving it needs no token; the analyst types the admin token
// into the page once per browser session (it stays in sessionStorage) and it goes with every
// API call. The reports, their authorization and their JSON belong to package report, not
// to this one.
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"

	"github.com/valyala/fasthttp"
)

// Path is the URL path prefix the dashboard is served under; the page itself is at Path
// and at Path without its trailing slash.
const Path = "/dashboard/"

// CSP is the Content-Security-Policy of every dashboard response: scripts, styles, images
// and API calls from the same origin only, no inline code, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

// file is one embedded file, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Handler returns the handler of Path and everything below it: the page for Path, Path
// without its slash and Path+"index.html", the page's files by name, 404 for anything else.
// Only GET and HEAD are allowed. Responses carry CSP, Cache-Control: no-cache and an ETag.
func Handler() fasthttp.RequestHandler {
	files := load()
	return func(ctx *fasthttp.RequestCtx) {
		serve(ctx, files)
	}
}

// load reads the embedded files; the embedded tree is fixed at build time, so a failure
// here is a programming error.
func load() map[string]file {
	files := map[string]file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			ctype = "application/octet-stream"
		}
		files[strings.TrimPrefix(p, "static/")] = file{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("cannot read the embedded dashboard files: " + err.Error())
	}
	return files
}

func serve(ctx *fasthttp.RequestCtx, files map[string]file) {
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	if !ctx.IsGet() && !ctx.IsHead() {
		h.Set("Allow", "GET, HEAD")
		plain(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed: use GET")
		return
	}
	name, ok := fileName(string(ctx.Path()))
	f, found := files[name]
	if !ok || !found {
		plain(ctx, fasthttp.StatusNotFound, "not found: the dashboard is at "+Path)
		return
	}
	h.Set("ETag", f.etag)
	if string(ctx.Request.Header.Peek("If-None-Match")) == f.etag {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetContentType(f.ctype)
	ctx.SetBody(f.body)
}

// plain answers status with a text message, keeping the headers already set (ctx.Error
// would drop them).
func plain(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg)
}

// fileName maps a request path to the name of an embedded file.
func fileName(p string) (string, bool) {
	if p == strings.TrimSuffix(Path, "/") {
		return "index.html", true
	}
	name, ok := strings.CutPrefix(p, Path)
	if !ok {
		return "", false
	}
	if name == "" {
		return "index.html", true
	}
	return name, true
}
