package attribution

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Output formats of Write.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// Write renders results as a text table (a block a model), as CSV (one header, then
// model,key,conversions,value,removal_effect rows) or as JSON
// ({"models":[{"model":…,"rows":[{"key":…,"conversions":…,"value":…,"removal_effect":…}]}]}).
func Write(w io.Writer, results []Result, format string) error {
	var err error
	switch format {
	case FormatTable:
		err = writeTable(w, results)
	case FormatCSV:
		err = writeCSV(w, results)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			Models []Result `json:"models"`
		}{results})
	default:
		return fmt.Errorf("cannot write attribution as %q: want %s, %s or %s", format, FormatTable, FormatCSV, FormatJSON)
	}
	if err != nil {
		return fmt.Errorf("cannot write attribution as %s: %w", format, err)
	}
	return nil
}

func writeTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		markov := r.Model == ModelMarkov
		fmt.Fprintf(tw, "# %s\nkey\tconversions\tvalue", r.Model)
		if markov {
			fmt.Fprint(tw, "\tremoval effect")
		}
		fmt.Fprintln(tw)
		for _, c := range r.Rows {
			fmt.Fprintf(tw, "%s\t%.4f\t%.4f", c.Key, c.Conversions, c.Value)
			if markov {
				fmt.Fprintf(tw, "\t%.6f", c.RemovalEffect)
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}

func writeCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"model", "key", "conversions", "value", "removal_effect"})
	for _, r := range results {
		for _, c := range r.Rows {
			_ = cw.Write([]string{r.Model, c.Key, fmtFloat(c.Conversions), fmtFloat(c.Value), fmtFloat(c.RemovalEffect)})
		}
	}
	cw.Flush()
	return cw.Error()
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
