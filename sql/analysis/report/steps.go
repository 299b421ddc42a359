package report

import (
	"fmt"
	"strings"

	"github.com/journeyd/journeyd/event/goal"
)

// cond returns st as a ClickHouse boolean expression over the columns of events.
func cond(st goal.Step) string {
	alts := make([]string, len(st.Alts))
	for i, m := range st.Alts {
		alts[i] = matchCond(m)
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

func matchCond(m goal.Match) string {
	var parts []string
	if m.Type != "" && m.Type != "*" {
		parts = append(parts, "type = "+quote(m.Type))
	}
	col := "name"
	if m.Type == "pageview" {
		col = "path"
	}
	if m.Target != "" && m.Target != "*" {
		parts = append(parts, globCond(col, m.Target))
	}
	for _, k := range sortedKeys(m.Props) {
		parts = append(parts, fmt.Sprintf("`props.value`[indexOf(`props.key`, %s)] = %s", quote(k), quote(m.Props[k])))
	}
	if len(parts) == 0 {
		return "1"
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// globCond matches col against a glob where * is any text.
func globCond(col, glob string) string {
	if !strings.Contains(glob, "*") {
		return col + " = " + quote(glob)
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`, `*`, `%`)
	return col + " LIKE " + quote(r.Replace(glob))
}
