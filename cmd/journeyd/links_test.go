package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/collector/emaillink"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestEmailLinksEndToEnd: `journeyd sign` links work against serve: a signed click records
// an email_click with the campaign and redirects; a forged one neither redirects nor lands.
func TestEmailLinksEndToEnd(t *testing.T) {
	t.Setenv("JOURNEYD_LINK_KEYS", "k1:first-secret-of-32-bytes-length!!,k2:second-secret-of-32-bytes-length!")
	a := startApp(t, e2eConfig)
	keys, err := emaillink.ParseKeys("k1:first-secret-of-32-bytes-length!!,k2:second-secret-of-32-bytes-length!")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := emaillink.NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	urls, err := signer.SignURLs(a.URL, emaillink.Link{SiteID: "shop", URL: "https://shop.example/cart?restore=1",
		Source: "esputnik", Medium: "email", Campaign: "abandoned_cart", Content: "reminder_1", UserID: "user-7"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirect.Get(urls.Click)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://shop.example/cart?restore=1" {
		t.Fatalf("signed click: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	forged := strings.Replace(urls.Click, urls.Token, urls.Token[:len(urls.Token)-2]+"xx", 1)
	resp, err = noRedirect.Get(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("forged click: %d to %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.Get(urls.Open)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a.waitCount(t, "SELECT count() FROM events", 2)
	var typ, user, source, medium, campaign, content, channel, host string
	err = a.Conn.QueryRow(context.Background(), `SELECT type, user_id, source, medium, campaign, content, channel, host FROM events WHERE type = 'email_click'`).
		Scan(&typ, &user, &source, &medium, &campaign, &content, &channel, &host)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join([]string{user, source, medium, campaign, content, channel, host}, "|"); got != "user-7|esputnik|email|abandoned_cart|reminder_1|Email|shop.example" {
		t.Errorf("email_click row = %s", got)
	}
}

// TestEnrichedColumnsEndToEnd: user agent, bot flag, click id, referrer class and channel
// reach ClickHouse for pixel and server API events.
func TestEnrichedColumnsEndToEnd(t *testing.T) {
	a := startApp(t, e2eConfig)
	get := func(query, ua string) {
		t.Helper()
		req, _ := http.NewRequest("GET", a.URL+"/p.gif?"+query, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	iphone := "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	get("s=shop&a=v1&u=https%3A%2F%2Fshop.example%2F%3Fyclid%3D12345&r=https%3A%2F%2Fyandex.ru%2Fsearch%2F%3Ftext%3Dshoes", iphone)
	get("s=shop&a=v2&u=https%3A%2F%2Fshop.example%2Fblog&r=https%3A%2F%2Fvk.com%2Ffeed", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)")
	body := `{"userId":"u9","event":"lead_created","context":{"ip":"198.51.100.23","userAgent":"` + iphone + `","campaign":{"source":"google","medium":"cpc","name":"brand"}}}`
	req, _ := http.NewRequest("POST", a.URL+"/v1/track", strings.NewReader(body))
	req.Header.Set("X-Write-Key", "shop-write-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a.waitCount(t, "SELECT count() FROM events", 3)
	rows, err := a.Conn.Query(context.Background(), `SELECT anon_id, user_id, device, os, is_bot, click_id_type, click_id, referrer_kind, channel, ip FROM events ORDER BY anon_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var anon, user, device, os, cidType, cid, refKind, channel, ip string
		var bot uint8
		if err := rows.Scan(&anon, &user, &device, &os, &bot, &cidType, &cid, &refKind, &channel, &ip); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{anon, user, device, os, string('0' + rune(bot)), cidType, cid, refKind, channel, ip}, "|"))
	}
	want := []string{
		"|u9|mobile|iOS|0||||Paid Search|198.51.100.0",
		"v1||mobile|iOS|0|yclid|12345|search|Paid Search|127.0.0.0",
		"v2||bot||1|||social|Organic Social|127.0.0.0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestReportsAPIEndToEnd: the reports API answers with JSON behind the admin token.
func TestReportsAPIEndToEnd(t *testing.T) {
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "admin-secret")
	a := startApp(t, e2eConfig)
	for _, q := range []string{"s=shop&a=v1&u=https%3A%2F%2Fshop.example%2F%3Futm_source%3Dnews%26utm_medium%3Demail", "s=shop&a=v1&t=event&n=purchase&rev=20"} {
		req, _ := http.NewRequest("GET", a.URL+"/p.gif?"+q, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	a.waitCount(t, "SELECT count() FROM events", 2)
	get := func(token string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", a.URL+"/api/v1/reports/channels?site=shop", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	code, out := get("admin-secret")
	if code != http.StatusOK {
		t.Fatalf("channels: %d %v", code, out)
	}
	if b, _ := json.Marshal(out); !strings.Contains(string(b), `"Email"`) || !strings.Contains(string(b), `"revenue":20`) {
		t.Errorf("channels report has no Email row: %s", b)
	}
	resp, err := http.Get(a.URL + "/dashboard/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("dashboard: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
