package geo

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/journeyd/journeyd/sql/event"
)

// writeDB builds a small MaxMind database of the given type at path.
func writeDB(t *testing.T, path, dbType string, records map[string]mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IPVersion: 6})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cityRecord(country, regionCode, region, city string) mmdbtype.Map {
	sub := mmdbtype.Map{"iso_code": mmdbtype.String(regionCode)}
	if region != "" {
		sub["names"] = mmdbtype.Map{"en": mmdbtype.String(region)}
	}
	return mmdbtype.Map{
		"country":      mmdbtype.Map{"iso_code": mmdbtype.String(country)},
		"subdivisions": mmdbtype.Slice{sub},
		"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city), "ru": mmdbtype.String("Город")}},
	}
}

// testCityDB writes the City database the tests share.
func testCityDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	writeDB(t, path, "GeoIP2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24":  cityRecord("GB", "ENG", "England", "London"),
		"95.165.0.0/16": cityRecord("RU", "MOW", "Moscow", "Moscow"),
		"2a02:6b8::/32": cityRecord("RU", "SPE", "", "Saint Petersburg"),
		"8.8.8.0/24":    cityRecord("US", "CA", "California", "Mountain View"),
		"1.1.1.128/25":  {"country": mmdbtype.Map{"iso_code": mmdbtype.String("AU")}},
	})
	return path
}

func TestLookupCity(t *testing.T) {
	db, err := Open(testCityDB(t), nil)
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
	writeDB(t, path, "GeoLite2-Country", map[string]mmdbtype.Map{
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
	writeDB(t, path, "GeoIP2-City", map[string]mmdbtype.Map{"81.2.69.0/24": cityRecord("GB", "ENG", "England", "London")})
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
