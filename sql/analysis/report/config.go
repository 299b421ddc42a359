package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/journeyd/journeyd/event/goal"
)

// valueExpr returns the conversion's value as a Float64 expression.
func valueExpr(c goal.Conversion) string {
	if c.Value == "" || c.Value == "revenue" {
		return "revenue"
	}
	return fmt.Sprintf("toFloat64OrZero(`props.value`[indexOf(`props.key`, %s)])", quote(c.Value))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dimensions maps by values to their columns in events.
var dimensions = map[string]string{
	"device": "device", "channel": "channel", "country": "country", "source": "source",
	"medium": "medium", "campaign": "campaign", "browser": "browser", "os": "os",
	"region": "region", "city": "city", "referrer_host": "referrer_host",
}

// dimension returns the column for a by value.
func dimension(by string) (string, error) {
	if by == "" {
		return "", nil
	}
	col, ok := dimensions[by]
	if !ok {
		names := sortedKeys(dimensions)
		return "", fmt.Errorf("unknown breakdown %q: use one of %s", by, strings.Join(names, ", "))
	}
	return col, nil
}
