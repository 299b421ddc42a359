package geo

import (
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/journeyd/journeyd/collector/enrich/internal/geotest"
	"github.com/journeyd/journeyd/event"
)

func TestLookupCity(t *testing.T) {
	db, err := Open(geotest.CityDB(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(ip string, want Location) {
		t.Helper()
		e := event.Event{IP: ip}
		db.Enrich(&e, nil)
		if got := (Location{e.Country, e.Region, e.City}); got != want {
			t.Fatalf("%s: got %+v, want %+v", ip, got, want)
		}
	}
	f("81.2.69.160", Location{"GB", "England", "London"})
	f("95.165.12.1", Location{"RU", "Moscow", "Moscow"})
	f("95.165.12.1", Location{"RU", "Moscow", "Moscow"}) // from the cache
	f("::ffff:81.2.69.1", Location{"GB", "England", "London"})
	f("2a02:6b8:a::a", Location{"RU", "SPE", "Saint Petersburg"})
	f("1.1.1.200", Location{"AU", "", ""})
	f("8.8.8.8", Location{"US", "California", "Mountain View"})
	f("1.1.1.1", Location{})
	f("10.0.0.1", Location{})
	f("not an ip", Location{})
	f("", Location{})
}

func TestCountryEdition(t *testing.T) {
	path := filepath.Join(t.TempDir(), "country.mmdb")
	geotest.Write(t, path, "GeoLite2-Country", map[string]mmdbtype.Map{
		"81.2.69.0/24": {"country": mmdbtype.Map{"iso_code": mmdbtype.String("GB")}},
	})
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := db.Lookup(netip.MustParseAddr("81.2.69.5")), (Location{Country: "GB"}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestMissingFileWarnsAndReloadPicksItUp(t *testing.T) {
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "later.mmdb")
	db, err := Open(path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Open of a missing file failed: %v", err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("missing file logged %d warnings, want 1:\n%s", n, logs.String())
	}
	addr := netip.MustParseAddr("81.2.69.160")
	if got := db.Lookup(addr); got != (Location{}) {
		t.Fatalf("lookup without a database gave %+v", got)
	}
	geotest.Write(t, path, "GeoIP2-City", map[string]mmdbtype.Map{"81.2.69.0/24": geotest.City("GB", "ENG", "England", "London")})
	if err := db.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := db.Lookup(addr); got.City != "London" {
		t.Fatalf("after Reload: %+v, want London", got)
	}
	if err := os.WriteFile(path, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := db.Reload(); err == nil {
		t.Fatal("Reload of a corrupt file succeeded")
	}
	if got := db.Lookup(addr); got.City != "London" {
		t.Fatalf("a failed Reload dropped the database in use: %+v", got)
	}
}

func TestOpenRejectsCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, nil); err == nil {
		t.Fatal("Open of a corrupt file succeeded")
	}
}

func TestNoDatabase(t *testing.T) {
	db, err := Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := event.Event{IP: "81.2.69.160"}
	db.Enrich(&e, nil)
	if e.Country != "" || db.Reload() != nil {
		t.Fatalf("geo without a database: country %q", e.Country)
	}
}
