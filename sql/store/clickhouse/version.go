package clickhouse

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Version is a ClickHouse server release, such as 18.16.1 or 24.8.4.
type Version struct {
	Major, Minor, Patch uint64
}

// String returns the version as major.minor.patch.
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is o or newer.
func (v Version) AtLeast(o Version) bool {
	if v.Major != o.Major {
		return v.Major > o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor > o.Minor
	}
	return v.Patch >= o.Patch
}

// ParseVersion parses "major[.minor[.patch[.build]]]"; missing parts are zero.
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) > 4 || parts[0] == "" {
		return Version{}, fmt.Errorf("cannot parse ClickHouse version %q: want major.minor.patch", s)
	}
	var n [3]uint64
	for i := 0; i < len(parts) && i < 3; i++ {
		x, err := strconv.ParseUint(parts[i], 10, 32)
		if err != nil {
			return Version{}, fmt.Errorf("cannot parse ClickHouse version %q: %w", s, err)
		}
		n[i] = x
	}
	return Version{Major: n[0], Minor: n[1], Patch: n[2]}, nil
}

// ServerVersion returns the release of the server conn talks to.
func ServerVersion(conn driver.Conn) (Version, error) {
	sv, err := conn.ServerVersion()
	if err != nil {
		return Version{}, fmt.Errorf("cannot read ClickHouse server version: %w", err)
	}
	return Version{Major: sv.Version.Major, Minor: sv.Version.Minor, Patch: sv.Version.Patch}, nil
}
