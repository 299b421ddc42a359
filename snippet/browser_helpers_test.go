package snippet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/journeyd/journeyd/snippet/browsertest"
)

// wireEvent and wireBatch are the POST /e body agreed with the collector.
type wireEvent struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Name     string         `json:"name"`
	TS       int64          `json:"ts"`
	URL      string         `json:"url"`
	Ref      string         `json:"ref"`
	Title    string         `json:"title"`
	Props    map[string]any `json:"props"`
	Engaged  float64        `json:"engaged"`
	Revenue  float64        `json:"revenue"`
	Currency string         `json:"currency"`
	UID      string         `json:"uid"`
}

type wireBatch struct {
	Site   string            `json:"site"`
	AID    string            `json:"aid"`
	SID    string            `json:"sid"`
	UID    string            `json:"uid"`
	Sent   int64             `json:"sent"`
	UTM    map[string]string `json:"utm"`
	Click  *struct{ Type, ID string }
	Events []wireEvent `json:"events"`
}

// recorder is a tiny collector: it keeps every POST /e batch and GET /p.gif query.
type recorder struct {
	mu      sync.Mutex
	batches []wireBatch
	pixels  []url.Values
	bad     []string
	notify  chan struct{}
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	switch {
	case req.Method == "POST" && req.URL.Path == "/e":
		body, _ := io.ReadAll(req.Body)
		var b wireBatch
		if err := json.Unmarshal(body, &b); err != nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "text/plain") {
			r.bad = append(r.bad, fmt.Sprintf("%s %q: %v", req.Header.Get("Content-Type"), body, err))
		}
		r.batches = append(r.batches, b)
	case req.URL.Path == "/p.gif":
		r.pixels = append(r.pixels, req.URL.Query())
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// wait returns the first recorded event that pred accepts, waiting up to 10 seconds.
func (r *recorder) wait(t *testing.T, what string, pred func(b wireBatch, e wireEvent) bool) (wireBatch, wireEvent) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for _, b := range r.batches {
			for _, e := range b.Events {
				if pred(b, e) {
					r.mu.Unlock()
					return b, e
				}
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("no %s reached the collector in 10s; batches: %+v", what, r.snapshot())
		}
	}
}

func (r *recorder) snapshot() []wireBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wireBatch(nil), r.batches...)
}

// site is the test web site: pages with the tracker, the builds, and the recorder at /e.
type site struct {
	*recorder
	srv  *httptest.Server
	base string // http://127.0.0.1:port
	away string // http://localhost:port, another host: links to it are outbound
	down string // a collector URL where nothing listens
}

const pageTmpl = `<!doctype html><html><head><title>%s</title>
<script>window.__errors=[];addEventListener('error',function(e){__errors.push(String(e.message))});
addEventListener('unhandledrejection',function(e){__errors.push(String(e.reason))})</script>
<script>window.journeyd=window.journeyd||function(){(journeyd.q=journeyd.q||[]).push(arguments)}</script>
<script defer src="%s" data-site="test" %s></script></head>
<body><a id="out" href="%s/elsewhere">away</a> <a id="dl" href="/files/prices.pdf" onclick="event.preventDefault()">prices</a></body></html>`

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{recorder: &recorder{notify: make(chan struct{}, 1)}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.down = "http://" + l.Addr().String()
	l.Close()
	mux := http.NewServeMux()
	mux.Handle("/e", s.recorder)
	mux.Handle("/p.gif", s.recorder)
	script := func(b []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(b)
		}
	}
	mux.Handle("/t.js", script(defaultJS))
	mux.Handle("/t.full.js", script(fullJS))
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		src, attrs := "/t.js", ""
		switch req.URL.Path {
		case "/consent":
			attrs = "data-consent"
		case "/down":
			attrs = `data-api="` + s.down + `"`
		case "/full":
			src = "/t.full.js"
		case "/elsewhere":
			fmt.Fprint(w, "<!doctype html><title>Elsewhere</title>another site")
			return
		}
		title := strings.ToUpper(req.URL.Path[1:2]) + req.URL.Path[2:]
		fmt.Fprintf(w, pageTmpl, title, src, attrs, s.away)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.base = s.srv.URL
	s.away = strings.Replace(s.base, "127.0.0.1", "localhost", 1)
	return s
}

// clockHook lets a test move the page clock: Date.now() adds localStorage.__skew ms.
const clockHook = `(() => { const now = Date.now.bind(Date);
  Date.now = () => now() + (+localStorage.getItem('__skew') || 0); })();`

// startBrowser starts a headless Chromium with a fresh profile for the test.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.Start(t)
}

// newTab opens a tab in browser (in a fresh browser context when isolated) with the clock hook.
func newTab(t *testing.T, browser context.Context, isolated bool, hooks ...string) context.Context {
	t.Helper()
	return browsertest.Tab(t, browser, isolated, append([]string{clockHook}, hooks...)...)
}

// do runs browser actions and fails the test on error.
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, ctx, actions...)
}

// eval evaluates js in the tab and returns its result.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return browsertest.Eval[T](t, ctx, js)
}

// pixelNamed returns the pixel query with event name n, or nil.
func pixelNamed(px []url.Values, n string) url.Values {
	for _, q := range px {
		if q.Get("n") == n && (n != "" || q.Get("t") == "pageview") {
			return q
		}
	}
	return nil
}
