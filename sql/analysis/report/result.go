package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Table is one table of a report's result.
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Result is what a report returns: its tables, and the JSON body where the report has a
// documented shape of its own (attribution); otherwise the JSON is the tables with each row
// as an object.
type Result struct {
	Tables []Table
	Body   any
}

// Formats lists the output formats of Write.
var Formats = []string{"table", "csv", "json"}

// Write writes res to w as format: table (aligned text), csv, or json.
func Write(w io.Writer, res *Result, format string) error {
	switch format {
	case "", "table":
		return writeText(w, res)
	case "csv":
		return writeCSV(w, res)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res.JSON()); err != nil {
			return fmt.Errorf("cannot write report as JSON: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown format %q: use table, csv or json", format)
}

// JSON returns the value the json format encodes.
func (res *Result) JSON() any {
	if res.Body != nil {
		return res.Body
	}
	out := make(map[string][]map[string]any, len(res.Tables))
	for _, t := range res.Tables {
		objs := make([]map[string]any, 0, len(t.Rows))
		for _, row := range t.Rows {
			o := make(map[string]any, len(row))
			for i, c := range t.Columns {
				o[c] = jsonValue(row[i])
			}
			objs = append(objs, o)
		}
		out[t.Name] = objs
	}
	return out
}

func jsonValue(v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil
	}
	return v
}

func writeText(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, t := range res.Tables {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "# %s\n%s\n", t.Name, strings.Join(t.Columns, "\t"))
		for _, row := range t.Rows {
			fmt.Fprintln(tw, strings.Join(cells(row), "\t"))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("cannot write report: %w", err)
	}
	return nil
}

func writeCSV(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	for _, t := range res.Tables {
		cw.Write(append([]string{"table"}, t.Columns...))
		for _, row := range t.Rows {
			cw.Write(append([]string{t.Name}, cells(row)...))
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cannot write report as CSV: %w", err)
	}
	return nil
}

func cells(row []any) []string {
	out := make([]string, len(row))
	for i, v := range row {
		out[i] = cell(v)
	}
	return out
}

func cell(v any) string {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format("2006-01-02")
	case time.Duration:
		return x.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// round rounds x to n decimals, halves away from zero, as ClickHouse 18.16's round does
// for floats: the rates and days the reports compute in Go match those of their SQL.
func round(x float64, n int) float64 {
	p := math.Pow10(n)
	return math.Round(x*p) / p
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
