package attribution

import (
	"fmt"
	"strconv"
)

// Comparison is one published figure next to the computed one.
type Comparison struct {
	Expectation
	Got   float64
	Found bool // false when nothing computed holds the figure (a model not run, an unknown key)
	OK    bool // Found and Got matches Want at the published precision
}

// String renders the comparison as one line: "ok" or "FAIL", what, want and got.
func (c Comparison) String() string {
	status := "ok  "
	if !c.OK {
		status = "FAIL"
	}
	what := c.Field
	if c.Key != "" {
		what = c.Key + " " + what
	}
	if c.Model != "" {
		what = c.Model + " " + what
	}
	want := strconv.FormatFloat(c.Want, 'f', c.Decimals, 64)
	if !c.Found {
		return fmt.Sprintf("%s %-36s want %s, got nothing", status, what, want)
	}
	got := strconv.FormatFloat(c.Got, 'f', c.Decimals, 64)
	return fmt.Sprintf("%s %-36s want %s, got %s (%.*f)", status, what, want, got, c.Decimals+4, c.Got)
}

// Check compares the results of Compute over paths, and the paths' own totals, with the
// expectations of ParseReference.
func Check(paths []Path, results []Result, exps []Expectation) ([]Comparison, error) {
	byModel := make(map[string]map[string]Credit, len(results))
	for _, r := range results {
		rows := make(map[string]Credit, len(r.Rows))
		for _, c := range r.Rows {
			rows[c.Key] = c
		}
		byModel[r.Model] = rows
	}
	probability := -1.0
	out := make([]Comparison, 0, len(exps))
	for _, e := range exps {
		c := Comparison{Expectation: e}
		switch {
		case e.Model == "":
			c.Got, c.Found = pathTotal(paths, e.Field)
		case e.Field == FieldProbability:
			if probability < 0 {
				p, err := ConversionProbability(paths)
				if err != nil {
					return nil, err
				}
				probability = p
			}
			c.Got, c.Found = probability, true
		case e.Field == FieldSum:
			c.Got, c.Found = modelSum(byModel[e.Model])
		default:
			c.Got, c.Found = creditField(byModel[e.Model], e.Key, e.Field)
		}
		c.OK = c.Found && e.Matches(c.Got)
		out = append(out, c)
	}
	return out, nil
}

// pathTotal sums a field over the paths.
func pathTotal(paths []Path, field string) (float64, bool) {
	sum := 0.0
	for i := range paths {
		switch field {
		case FieldTotalConv:
			sum += paths[i].Conversions
		case FieldTotalNulls:
			sum += paths[i].Nulls
		case FieldTotalValue:
			sum += paths[i].Value
		default:
			return 0, false
		}
	}
	return sum, true
}

// modelSum sums the conversions of a model's rows.
func modelSum(rows map[string]Credit) (float64, bool) {
	sum := 0.0
	for _, c := range rows {
		sum += c.Conversions
	}
	return sum, rows != nil
}

// creditField returns one field of one key's credit.
func creditField(rows map[string]Credit, key, field string) (float64, bool) {
	c, ok := rows[key]
	if !ok {
		return 0, false
	}
	switch field {
	case FieldConversions:
		return c.Conversions, true
	case FieldValue:
		return c.Value, true
	case FieldRemovalEffect:
		return c.RemovalEffect, true
	}
	return 0, false
}
