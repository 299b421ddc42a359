package snippet

import (
	"embed"
	"mime"
	"path"
	"strings"

	"github.com/valyala/fasthttp"
)

//go:embed demo
var demoFS embed.FS

// DemoPrefix is the URL path the demo shop lives under.
const DemoPrefix = "/demo/"

// Demo returns a handler for the demo shop: a catalog, product, cart, checkout and
// thank-you page, a journal page with an outbound link and a download, all embedding
// /t.js with data-site="demo". It serves DemoPrefix and below (and redirects /demo there);
// anything else is 404. The pages load /t.js from the same origin, so the server that
// mounts Demo must serve Handler at /t.js too.
func Demo() fasthttp.RequestHandler {
	return serveDemo
}

func serveDemo(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	if p == "/demo" {
		ctx.Redirect(DemoPrefix, fasthttp.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(p, DemoPrefix)
	if !ok {
		ctx.Error("not found: the demo shop is at "+DemoPrefix, fasthttp.StatusNotFound)
		return
	}
	if name == "" {
		name = "index.html"
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		ctx.Error("method not allowed: use GET", fasthttp.StatusMethodNotAllowed)
		return
	}
	body, err := demoFS.ReadFile("demo/" + path.Clean(name))
	if err != nil || strings.Contains(name, "..") {
		ctx.Error("not found: no such demo page", fasthttp.StatusNotFound)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	ctx.SetContentType(ctype)
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBody(body)
}
