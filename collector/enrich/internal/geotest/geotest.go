// Package geotest builds small MaxMind databases for tests with mmdbwriter, so that no test
// downloads or ships a real one.
package geotest

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Write builds a database of type dbType ("GeoIP2-City", "GeoLite2-Country") with one
// record per CIDR at path.
func Write(t testing.TB, path, dbType string, records map[string]mmdbtype.Map) {
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
			t.Fatalf("cannot insert %s: %v", cidr, err)
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

// City returns a City record; region may be empty to leave the subdivision unnamed.
func City(country, regionCode, region, city string) mmdbtype.Map {
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

// CityDB writes the City database tests share into a temporary directory and returns its
// path: London 81.2.69.0/24, Moscow 95.165.0.0/16, Saint Petersburg 2a02:6b8::/32 (region
// without a name), Mountain View 8.8.8.0/24, and 1.1.1.128/25 known only as AU.
func CityDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	Write(t, path, "GeoIP2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24":  City("GB", "ENG", "England", "London"),
		"95.165.0.0/16": City("RU", "MOW", "Moscow", "Moscow"),
		"2a02:6b8::/32": City("RU", "SPE", "", "Saint Petersburg"),
		"8.8.8.0/24":    City("US", "CA", "California", "Mountain View"),
		"1.1.1.128/25":  {"country": mmdbtype.Map{"iso_code": mmdbtype.String("AU")}},
	})
	return path
}
