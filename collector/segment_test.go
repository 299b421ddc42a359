package collector

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
)

func basic(key string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":")) }

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSegmentCalls(t *testing.T) {
	h := newHarness(t)
	f := func(path, body string, wantType event.Type, headers ...string) {
		t.Helper()
		resp := h.do("POST", path, []byte(body), headers...)
		if resp.StatusCode() != 200 || string(resp.Body()) != `{"success":true}` {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode(), resp.Body())
		}
		evs := h.sink.take()
		if len(evs) != 1 || evs[0].Type != wantType || evs[0].SiteID != "shop" {
			t.Fatalf("POST %s: events %+v", path, evs)
		}
	}
	f("/v1/track", `{"userId":"u1","event":"Order Paid","properties":{"revenue":10}}`, event.TypeServer, "Authorization", basic(shopKey))
	f("/v1/identify", `{"userId":"u1","anonymousId":"a1","traits":{"plan":"pro"}}`, event.TypeIdentify, "X-Write-Key", shopKey)
	f("/v1/page", `{"writeKey":"`+shopKey+`","anonymousId":"a1","name":"Home"}`, event.TypePageview)
	f("/v1/screen", `{"anonymousId":"a1","name":"Home"}`, event.TypeScreen, "Authorization", basic(shopKey))
	f("/v1/group", `{"userId":"u1","groupId":"g1"}`, event.TypeGroup, "Authorization", basic(shopKey))
	f("/v1/alias", `{"userId":"u1","previousId":"a1"}`, event.TypeAlias, "Authorization", basic(shopKey))
	f("/v1/import", `{"batch":[{"type":"track","userId":"u","event":"e"}]}`, event.TypeServer, "Authorization", basic(shopKey))
	f("/v1/track", string(gz(t, []byte(`{"userId":"u1","event":"Zipped"}`))), event.TypeServer,
		"Authorization", basic(shopKey), "Content-Encoding", "gzip")
}

func TestSegmentEnrichmentInput(t *testing.T) {
	h := newHarness(t)
	body := `{"userId":"u1","event":"e","context":{"ip":"198.51.100.4","userAgent":"Backend/1"}}`
	h.do("POST", "/v1/track", []byte(body), "Authorization", basic(shopKey), "User-Agent", "analytics-go")
	body = `{"event":"e","anonymousId":"","userId":"","messageId":"m"}`
	resp := h.do("POST", "/v1/track", []byte(body), "Authorization", basic(shopKey))
	if resp.StatusCode() != 400 || !strings.Contains(string(resp.Body()), "neither userId nor anonymousId") {
		t.Fatalf("a message without ids: %d %s", resp.StatusCode(), resp.Body())
	}
	evs := h.sink.take()
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
}

func TestSegmentDedup(t *testing.T) {
	h := newHarness(t)
	body := []byte(`{"batch":[{"type":"track","messageId":"m1","userId":"u","event":"e"},
		{"type":"track","messageId":"m1","userId":"u","event":"e"},
		{"type":"track","messageId":"m2","userId":"u","event":"e"}]}`)
	h.do("POST", "/v1/batch", body, "Authorization", basic(shopKey))
	h.do("POST", "/v1/batch", body, "Authorization", basic(shopKey))
	if n := len(h.sink.take()); n != 2 {
		t.Fatalf("stored %d events, want 2 (m1, m2 once each)", n)
	}
	// The same messageId on another site is another event.
	h.do("POST", "/v1/batch", body, "Authorization", basic(blogKey))
	if n := len(h.sink.take()); n != 2 {
		t.Fatalf("blog stored %d events, want 2", n)
	}
	h.advance(49 * time.Hour) // past the default window, even in the previous generation
	h.do("POST", "/v1/batch", body, "Authorization", basic(shopKey))
	if n := len(h.sink.take()); n != 2 {
		t.Fatalf("after the window stored %d events, want 2", n)
	}
}
