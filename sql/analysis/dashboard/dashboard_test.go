package dashboard

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// get runs one request through Handler and returns the response.
func get(t *testing.T, method, path string, header ...string) *fasthttp.Response {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(path)
	for i := 0; i+1 < len(header); i += 2 {
		ctx.Request.Header.Set(header[i], header[i+1])
	}
	Handler()(&ctx)
	resp := &fasthttp.Response{}
	ctx.Response.CopyTo(resp)
	return resp
}

func TestHandlerPaths(t *testing.T) {
	f := func(path string, status int, ctype, contains string) {
		t.Helper()
		resp := get(t, "GET", path)
		if resp.StatusCode() != status {
			t.Fatalf("GET %s: status %d, want %d", path, resp.StatusCode(), status)
		}
		if got := string(resp.Header.ContentType()); !strings.HasPrefix(got, ctype) {
			t.Fatalf("GET %s: Content-Type %q, want %q", path, got, ctype)
		}
		if !strings.Contains(string(resp.Body()), contains) {
			t.Fatalf("GET %s: body does not contain %q:\n%.300s", path, contains, resp.Body())
		}
		if got := string(resp.Header.Peek("Content-Security-Policy")); got != CSP {
			t.Fatalf("GET %s: Content-Security-Policy %q, want %q", path, got, CSP)
		}
		if got := string(resp.Header.Peek("Cache-Control")); got != "no-cache" {
			t.Fatalf("GET %s: Cache-Control %q, want no-cache", path, got)
		}
		if got := string(resp.Header.Peek("X-Content-Type-Options")); got != "nosniff" {
			t.Fatalf("GET %s: X-Content-Type-Options %q, want nosniff", path, got)
		}
	}
	f("/dashboard/", 200, "text/html; charset=utf-8", "<title>journeyd")
	f("/dashboard", 200, "text/html; charset=utf-8", "<title>journeyd")
	f("/dashboard/index.html", 200, "text/html; charset=utf-8", "<title>journeyd")
	f("/dashboard/app.js", 200, "text/javascript; charset=utf-8", "fetchReport")
	f("/dashboard/charts.js", 200, "text/javascript; charset=utf-8", "export function h(")
	f("/dashboard/style.css", 200, "text/css; charset=utf-8", ":root")
	f("/dashboard/icon.svg", 200, "image/svg+xml", "<svg")
	f("/dashboard/nope.js", 404, "text/plain", "not found")
	f("/dashboard/../dashboard.go", 404, "text/plain", "not found")
	f("/dashboard/static/app.js", 404, "text/plain", "not found")
	f("/dashboardx", 404, "text/plain", "not found")
	f("/api/v1/reports", 404, "text/plain", "not found")
}

func TestHandlerMethods(t *testing.T) {
	if resp := get(t, "HEAD", "/dashboard/"); resp.StatusCode() != 200 {
		t.Fatalf("HEAD /dashboard/: status %d, want 200", resp.StatusCode())
	}
	resp := get(t, "POST", "/dashboard/")
	if resp.StatusCode() != fasthttp.StatusMethodNotAllowed || string(resp.Header.Peek("Allow")) != "GET, HEAD" {
		t.Fatalf("POST /dashboard/: status %d, Allow %q; want 405 with Allow: GET, HEAD", resp.StatusCode(), resp.Header.Peek("Allow"))
	}
}

func TestHandlerETag(t *testing.T) {
	first := get(t, "GET", "/dashboard/app.js")
	etag := string(first.Header.Peek("ETag"))
	if !regexp.MustCompile(`^"[0-9a-f]{16}"$`).MatchString(etag) {
		t.Fatalf("ETag %q, want a quoted hash", etag)
	}
	again := get(t, "GET", "/dashboard/app.js", "If-None-Match", etag)
	if again.StatusCode() != fasthttp.StatusNotModified || len(again.Body()) != 0 {
		t.Fatalf("GET with If-None-Match %s: status %d with %d bytes, want 304 without a body", etag, again.StatusCode(), len(again.Body()))
	}
	if other := string(get(t, "GET", "/dashboard/style.css").Header.Peek("ETag")); other == etag {
		t.Fatalf("app.js and style.css share the ETag %s", etag)
	}
	stale := get(t, "GET", "/dashboard/app.js", "If-None-Match", `"0000000000000000"`)
	if stale.StatusCode() != 200 || len(stale.Body()) == 0 {
		t.Fatalf("GET with a stale ETag: status %d, want 200 with the file", stale.StatusCode())
	}
}

// TestCSP checks the policy is strict, and that the page does nothing the policy would
// silently block: inline scripts, inline styles, event handler attributes, other origins.
func TestCSP(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "data:", "http:", "https:"} {
		if strings.Contains(CSP, bad) {
			t.Errorf("CSP allows %q: %s", bad, CSP)
		}
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %q: %s", want, CSP)
		}
	}
	index := string(get(t, "GET", "/dashboard/").Body())
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(index, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("index.html has an inline script, which the CSP blocks: %s", tag)
		}
	}
	for _, re := range []string{`<style`, `\sstyle=`, `\son[a-z]+=`, `javascript:`} {
		if m := regexp.MustCompile(re).FindString(index); m != "" {
			t.Errorf("index.html has inline code the CSP blocks: %q", m)
		}
	}
	for _, name := range staticNames(t) {
		body := string(get(t, "GET", "/dashboard/"+name).Body())
		for _, u := range regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'"]*`).FindAllString(body, -1) {
			if !strings.HasPrefix(u, "http://www.w3.org/2000/svg") {
				t.Errorf("%s refers to another origin, which the dashboard must not: %s", name, u)
			}
		}
	}
}

// TestAssetsExist checks every file the page refers to is served.
func TestAssetsExist(t *testing.T) {
	index := string(get(t, "GET", "/dashboard/").Body())
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(index, -1)
	app := string(get(t, "GET", "/dashboard/app.js").Body())
	for _, m := range regexp.MustCompile(`from '\./([^']+)'`).FindAllStringSubmatch(app, -1) {
		refs = append(refs, []string{"", Path + m[1]})
	}
	if len(refs) < 4 {
		t.Fatalf("found only %d references in index.html and app.js: %v", len(refs), refs)
	}
	for _, r := range refs {
		if !strings.HasPrefix(r[1], Path) {
			t.Errorf("reference %q is outside %s", r[1], Path)
			continue
		}
		if resp := get(t, "GET", r[1]); resp.StatusCode() != 200 {
			t.Errorf("the page refers to %s, which answers %d", r[1], resp.StatusCode())
		}
	}
}

func staticNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for name := range load() {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Contains(names, "index.html") || !slices.Contains(names, "app.js") {
		t.Fatalf("embedded files %v lack index.html or app.js", names)
	}
	return names
}
