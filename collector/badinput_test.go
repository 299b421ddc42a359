package collector

import (
	"bytes"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/collector/clientclock"
)

// TestBadInput sends what a broken or hostile client sends, and checks the documented
// answer: status, a message that says what is wrong, the rejection counted, no panic.
func TestBadInput(t *testing.T) {
	h := newHarness(t)
	shop := []string{"Authorization", basic(shopKey)}
	bomb := gz(t, bytes.Repeat([]byte(" "), 50<<20)) // 50 MB of spaces in ~50 KB
	big := `{"batch":[{"type":"track","userId":"u","event":"e","properties":{"x":"` + strings.Repeat("x", 600<<10) + `"}}]}`
	bigEvent := `{"userId":"u","event":"e","properties":{"x":"` + strings.Repeat("x", 40<<10) + `"}}`
	f := func(method, path, body string, headers []string, wantCode int, wantMsg, endpoint, reason string) {
		t.Helper()
		before := h.counter(rejected, endpoint, reason)
		resp := h.do(method, path, []byte(body), headers...)
		if resp.StatusCode() != wantCode || !strings.Contains(string(resp.Body()), wantMsg) {
			t.Fatalf("%s %s: %d %.200s; want %d containing %q", method, path, resp.StatusCode(), resp.Body(), wantCode, wantMsg)
		}
		if reason != "" && h.counter(rejected, endpoint, reason) <= before {
			t.Fatalf("%s %s: rejection %s/%s not counted", method, path, endpoint, reason)
		}
	}
	// Segment API.
	f("POST", "/v1/track", `{"userId":"u",`, shop, 400, `"success":false,"message":"invalid message: cannot parse body as JSON`, "segment_track", "malformed")
	f("POST", "/v1/track", `{"userId":"u","event":"e"}`, nil, 401, "missing or unknown write key", "segment_track", "write_key")
	f("POST", "/v1/track", `{"userId":"u","event":"e"}`, []string{"Authorization", basic("wrong-key-123")}, 401, "write key", "segment_track", "write_key")
	f("POST", "/v1/track", `{"userId":"u","event":"e","writeKey":"nope-nope"}`, nil, 401, "write key", "segment_track", "write_key")
	f("POST", "/v1/track", `{"userId":"u","event":"e"}`, []string{"Authorization", "Basic !!!"}, 401, "write key", "segment_track", "write_key")
	f("POST", "/v1/track", `{"userId":"u","event":"e"}`, []string{"X-Write-Key", "nope-nope"}, 401, "write key", "segment_track", "write_key")
	f("POST", "/v1/batch", big, shop, 413, "body larger than", "segment_batch", "body_too_large")
	f("POST", "/v1/track", bigEvent, shop, 413, "message larger than 32768 bytes", "segment_track", "event_too_large")
	f("POST", "/v1/batch", string(bomb), append(shop, "Content-Encoding", "gzip"), 413, "body larger than", "segment_batch", "body_too_large")
	f("POST", "/v1/batch", "not gzip", append(shop, "Content-Encoding", "gzip"), 400, "cannot decompress gzip body", "segment_batch", "malformed")
	f("POST", "/v1/batch", "{}", append(shop, "Content-Encoding", "br"), 415, "unsupported Content-Encoding", "segment_batch", "encoding")
	f("POST", "/v1/batch", `{"batch":"x"}`, shop, 400, `a batch needs \"batch\": [messages]`, "segment_batch", "malformed")
	f("GET", "/v1/track", "", shop, 405, "method not allowed", "segment_track", "")
	f("POST", "/v1/track", "{\"userId\":\"u\xff\xfe\",\"event\":\"e\"}", shop, 200, `"success":true`, "segment_track", "")
	if evs := h.sink.take(); len(evs) != 1 || evs[0].UserID != "u\uFFFD" {
		t.Fatalf("invalid UTF-8 not replaced: %+v", evs)
	}
	f("POST", "/v1/track", `{"userId":"u","event":"e","timestamp":"1970-01-01T00:00:00Z"}`, shop, 200, "true", "segment_track", "")
	f("POST", "/v1/track", `{"userId":"u","event":"e","timestamp":"2999-01-01T00:00:00Z"}`, shop, 200, "true", "segment_track", "")
	for _, e := range h.sink.take() {
		if v, ok := e.Prop(clientclock.ClampedProp); !ok || !e.TS.Equal(testNow) {
			t.Fatalf("absurd timestamp %q: stored at %v", v, e.TS)
		}
	}
	// Browser batches.
	origin := []string{"Origin", "https://shop.example"}
	f("POST", "/e", `{"site":"shop","events":[`, origin, 400, "cannot parse batch as JSON", "beacon", "malformed")
	f("POST", "/e", `{"site":"nope","events":[{"type":"event"}]}`, origin, 400, `unknown site "nope"`, "beacon", "unknown_site")
	f("POST", "/e", `{"events":[]}`, origin, 400, `no "site"`, "beacon", "malformed")
	f("POST", "/e", `{"site":"shop","events":[{"type":"event"}]}`, []string{"Origin", "https://evil.example"}, 403,
		`origin "https://evil.example" may not send events for site "shop"`, "beacon", "origin")
	f("POST", "/e", `{"site":"shop","events":[{"type":"event"}]}`, nil, 403, "no Origin or Referer", "beacon", "origin")
	f("POST", "/e", `{"site":"shop","events":[{"type":"event"}]}`, []string{"Referer", "https://shop.example.evil.com/x"}, 403, "may not send", "beacon", "origin")
	f("POST", "/e", `{"site":"shop","events":[{"type":"event"}]}`, []string{"Origin", "https://shop.example", "DNT", "1"}, 204, "", "beacon", "dnt")
	f("POST", "/e", `{"site":"shop","events":[{"type":"bogus"},{"type":"event","ts":1}]}`, origin, 204, "", "beacon", "malformed_event")
	f("POST", "/e", big, origin, 413, "body larger than", "beacon", "body_too_large")
	f("POST", "/e", string(bomb), append(origin, "Content-Encoding", "gzip"), 413, "body larger than", "beacon", "body_too_large")
	f("PUT", "/e", "", nil, 405, "method not allowed", "beacon", "")
	f("GET", "/nowhere", "", nil, 404, "not found", "other", "")
	if evs := h.sink.take(); len(evs) != 1 || !evs[0].TS.Equal(testNow) {
		t.Fatalf("the absurd beacon event was not kept and clamped: %+v", evs)
	}
}

func TestHugeHeaders(t *testing.T) {
	h := newHarness(t)
	resp := h.do("GET", "/p.gif?s=shop", nil, "X-Junk", strings.Repeat("j", 20<<10))
	if resp.StatusCode() != 431 {
		t.Fatalf("20 KB of headers: %d, want 431", resp.StatusCode())
	}
	if h.counter(rejected, "pixel", "headers_too_large") != 1 && h.counter(rejected, "other", "headers_too_large") != 1 {
		t.Fatal("the refusal was not counted")
	}
}
