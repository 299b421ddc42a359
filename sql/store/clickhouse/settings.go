package clickhouse

import (
	"fmt"
	"sort"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// setting is a setting as a query sends it in the binary format: a number, or a string.
type setting struct {
	key      string
	isString bool
	str      string
	num      uint64
}

// encodeSettings returns dsn's settings overridden by query's, in key order, and
// max_execution_time when deadline is more than a second away.
func encodeSettings(dsn, query ch.Settings, deadline time.Time) ([]setting, error) {
	all := make(map[string]any, len(dsn)+len(query)+1)
	for k, v := range dsn {
		all[k] = v
	}
	for k, v := range query {
		all[k] = v
	}
	if !deadline.IsZero() {
		if sec := time.Until(deadline).Seconds(); sec > 1 {
			all["max_execution_time"] = int(sec + 5)
		}
	}
	out := make([]setting, 0, len(all))
	for k, v := range all {
		s := setting{key: k}
		switch v := v.(type) {
		case int:
			if v < 0 {
				return nil, fmt.Errorf("cannot send setting %s = %d: a negative number", k, v)
			}
			s.num = uint64(v)
		case int64:
			if v < 0 {
				return nil, fmt.Errorf("cannot send setting %s = %d: a negative number", k, v)
			}
			s.num = uint64(v)
		case uint64:
			s.num = v
		case bool:
			if v {
				s.num = 1
			}
		case string:
			s.isString, s.str = true, v
		default:
			return nil, fmt.Errorf("cannot send setting %s of type %T", k, v)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out, nil
}
