// Package geo is the enrichment step that fills country, region and city from the client
// address, with a MaxMind database (GeoIP2 or GeoLite2, City or Country edition) read by
// geoip2-golang. The database is read into memory, so Reload can swap it while lookups run.
//
// No database configured, or a file that is missing, leaves the geo columns empty: a missing
// file is logged once as a warning, never fatal. A file that is present but unreadable is an
// error at Open, and keeps the previous database at Reload. Region is the English name of
// the first subdivision (its ISO code when the database has no name), city the English name
// of the city, country the ISO 3166-1 alpha-2 code.
package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"

	"github.com/oschwald/geoip2-golang"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/internal/boundedcache"
	"github.com/journeyd/journeyd/event"
)

// cacheSize bounds the per-database cache of looked-up addresses.
const cacheSize = 1 << 14

// Location is what the database says about one address.
type Location struct {
	Country string
	Region  string
	City    string
}

// DB looks addresses up in a MaxMind database. It is safe for concurrent use.
type DB struct {
	path string
	log  *slog.Logger
	cur  atomic.Pointer[loaded]
}

// loaded is one generation of the database with its own cache.
type loaded struct {
	r     *geoip2.Reader
	city  bool
	cache *boundedcache.Cache[Location]
}

// Open reads the database at path. An empty path disables geo lookups; a missing file logs
// a warning and leaves geo empty until a Reload finds it.
func Open(path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.Default()
	}
	db := &DB{path: path, log: log}
	if path == "" {
		return db, nil
	}
	if err := db.Reload(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return db, nil
}

// Reload reads the database file again (on SIGHUP) and swaps it in. On error the database
// in use stays; a missing file is logged as a warning and returned as an error wrapping
// fs.ErrNotExist.
func (db *DB) Reload() error {
	if db.path == "" {
		return nil
	}
	b, err := os.ReadFile(db.path)
	if errors.Is(err, fs.ErrNotExist) {
		db.log.Warn("geo database not found: country, region and city stay empty", "path", db.path)
	}
	if err != nil {
		return fmt.Errorf("cannot read geo database %s: %w", db.path, err)
	}
	r, err := geoip2.FromBytes(b)
	if err != nil {
		return fmt.Errorf("cannot open geo database %s: %w", db.path, err)
	}
	kind := r.Metadata().DatabaseType
	if !strings.Contains(kind, "City") && !strings.Contains(kind, "Country") {
		return fmt.Errorf("cannot use geo database %s of type %q: want a City or Country edition", db.path, kind)
	}
	db.cur.Store(&loaded{r: r, city: strings.Contains(kind, "City"), cache: boundedcache.New[Location](cacheSize)})
	return nil
}

// Enrich fills the geo columns of e from e.IP, the full client address set by the
// clientip step.
func (db *DB) Enrich(e *event.Event, _ *enrich.Request) {
	if e.IP == "" || db.cur.Load() == nil {
		return
	}
	addr, err := netip.ParseAddr(e.IP)
	if err != nil {
		return
	}
	loc := db.Lookup(addr)
	e.Country, e.Region, e.City = loc.Country, loc.Region, loc.City
}

// Lookup returns the location of addr; the zero Location when unknown or no database.
func (db *DB) Lookup(addr netip.Addr) Location {
	l := db.cur.Load()
	if l == nil || !addr.IsValid() {
		return Location{}
	}
	key := addr.Unmap().As16()
	if loc, ok := l.cache.Get(key[:]); ok {
		return loc
	}
	loc := l.lookup(addr)
	l.cache.Put(string(key[:]), loc)
	return loc
}

func (l *loaded) lookup(addr netip.Addr) Location {
	ip := addr.Unmap().AsSlice()
	if !l.city {
		c, err := l.r.Country(ip)
		if err != nil {
			return Location{}
		}
		return Location{Country: c.Country.IsoCode}
	}
	c, err := l.r.City(ip)
	if err != nil {
		return Location{}
	}
	loc := Location{Country: c.Country.IsoCode, City: c.City.Names["en"]}
	if len(c.Subdivisions) > 0 {
		loc.Region = c.Subdivisions[0].Names["en"]
		if loc.Region == "" {
			loc.Region = c.Subdivisions[0].IsoCode
		}
	}
	return loc
}
