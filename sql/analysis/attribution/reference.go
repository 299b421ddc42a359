package attribution

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Expectation is one published figure to compare a computed one against.
type Expectation struct {
	Model    string  // a model name; "" for figures of the paths themselves
	Key      string  // a channel; "" for figures of the whole model or data set
	Field    string  // one of the Field* names
	Want     float64 // the published number
	Decimals int     // how many decimals it was published with: the precision to compare at
}

// Fields an Expectation can name.
const (
	FieldConversions   = "conversions"
	FieldValue         = "value"
	FieldRemovalEffect = "removal_effect"
	FieldProbability   = "probability"       // markov: P(conversion from start)
	FieldSum           = "sum"               // a model's conversions summed over keys
	FieldTotalConv     = "total_conversions" // of the paths
	FieldTotalNulls    = "total_nulls"       // of the paths
	FieldTotalValue    = "total_value"       // of the paths
)

// ParseReference reads the figures of a reference README (the one in ../shared/reference,
// which holds ChannelAttribution's PathData results): the heuristic table (a column a model)
// and its "Values (m1 / m2) for key: v1 / v2" line, the Markov table (removal effect and
// conversions) and its probability of conversion, the Shapley line "key value, key value…"
// with its sum, and the data set totals. It fails when a section the check relies on is
// missing, so that a changed README cannot pass by checking nothing.
func ParseReference(r io.Reader) ([]Expectation, error) {
	rp := &refParser{found: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if err := rp.line(strings.TrimSpace(sc.Text())); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read reference figures: %w", err)
	}
	if err := rp.flush(); err != nil {
		return nil, err
	}
	for _, s := range []string{sectionHeuristic, ModelMarkov, ModelShapley} {
		if !rp.found[s] {
			return nil, fmt.Errorf("cannot find the %s figures in the reference: want a \"## …\" section naming it", s)
		}
	}
	return rp.exps, nil
}

// refParser holds the state of ParseReference between lines.
type refParser struct {
	exps    []Expectation
	section string          // the model (or sectionHeuristic) of the current "## " section
	table   [][]string      // rows of the Markdown table being read
	found   map[string]bool // sections that gave at least one figure
}

// line takes one trimmed line of the README.
func (rp *refParser) line(line string) error {
	if strings.HasPrefix(line, "|") {
		rp.table = append(rp.table, splitRow(line))
		return nil
	}
	if err := rp.flush(); err != nil {
		return err
	}
	if strings.HasPrefix(line, "## ") {
		rp.section = sectionModel(line)
		return nil
	}
	e, err := lineExpectations(rp.section, line)
	rp.add(e)
	return err
}

// flush reads the table that just ended, if any.
func (rp *refParser) flush() error {
	if len(rp.table) == 0 {
		return nil
	}
	e, err := tableExpectations(rp.section, rp.table)
	rp.table = nil
	rp.add(e)
	return err
}

func (rp *refParser) add(e []Expectation) {
	rp.exps = append(rp.exps, e...)
	rp.found[rp.section] = rp.found[rp.section] || len(e) > 0
}

const sectionHeuristic = "heuristic"

// sectionModel names the section a "## " heading opens.
func sectionModel(heading string) string {
	h := strings.ToLower(heading)
	switch {
	case strings.Contains(h, "heuristic"):
		return sectionHeuristic
	case strings.Contains(h, "markov"):
		return ModelMarkov
	case strings.Contains(h, "shapley"):
		return ModelShapley
	}
	return ""
}

// splitRow splits a Markdown table row into trimmed cells.
func splitRow(line string) []string {
	cells := strings.Split(strings.Trim(line, "|"), "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// tableExpectations reads a Markdown table: a key column, then a column per model (heuristic
// section) or per field (Markov section).
func tableExpectations(section string, rows [][]string) ([]Expectation, error) {
	if section != sectionHeuristic && section != ModelMarkov {
		return nil, nil
	}
	header := rows[0]
	var exps []Expectation
	for _, row := range rows[1:] {
		if len(row) != len(header) {
			return nil, fmt.Errorf("cannot parse reference table row %q: %d cells under %d columns", row, len(row), len(header))
		}
		if strings.Trim(row[0], "-: ") == "" {
			continue // the |---| line
		}
		for j := 1; j < len(row); j++ {
			model, field, err := columnMeaning(section, header[j])
			if err != nil {
				return nil, err
			}
			e, err := expectation(model, row[0], field, row[j])
			if err != nil {
				return nil, err
			}
			exps = append(exps, e)
		}
	}
	return exps, nil
}

// columnMeaning maps a table column header to the model and field it holds.
func columnMeaning(section, header string) (model, field string, err error) {
	h := strings.ToLower(header)
	if section == ModelMarkov {
		switch h {
		case "removal effect":
			return ModelMarkov, FieldRemovalEffect, nil
		case "conversions":
			return ModelMarkov, FieldConversions, nil
		case "value":
			return ModelMarkov, FieldValue, nil
		}
		return "", "", fmt.Errorf("cannot read Markov reference column %q: want removal effect, conversions or value", header)
	}
	if m := heuristicModel(h); m != "" {
		return m, FieldConversions, nil
	}
	return "", "", fmt.Errorf("cannot read heuristic reference column %q: unknown model", header)
}

// heuristicModel maps a heading such as "first touch" to a model name; "" when unknown.
func heuristicModel(h string) string {
	h = strings.NewReplacer(" touch", "", " based", "", "-", "_", " ", "_").Replace(strings.TrimSpace(strings.ToLower(h)))
	for _, m := range Models[:6] {
		if h == m {
			return m
		}
	}
	return ""
}

var (
	valuesLine  = regexp.MustCompile(`^Values \(([^)]*)\) for (\S+): (.+?)\.?$`)
	probLine    = regexp.MustCompile(`Probability of conversion from start: ([0-9]+(?:\.[0-9]+)?)`)
	totalsLine  = regexp.MustCompile(`([0-9,]+) conversions, ([0-9,]+) non-converting journeys and a total conversion value of ([0-9,.]*[0-9])`)
	shapleyPair = regexp.MustCompile(`^(\S+) (-?[0-9][0-9.]*)$`)
	shapleySum  = regexp.MustCompile(`^\(sum ([0-9,]+(?:\.[0-9]+)?)`)
)

// lineExpectations reads the figures written in prose.
func lineExpectations(section, line string) ([]Expectation, error) {
	var exps []Expectation
	add := func(model, key, field, text string) error {
		e, err := expectation(model, key, field, text)
		exps = append(exps, e)
		return err
	}
	if m := totalsLine.FindStringSubmatch(line); m != nil {
		for i, f := range []string{FieldTotalConv, FieldTotalNulls, FieldTotalValue} {
			if err := add("", "", f, m[i+1]); err != nil {
				return nil, err
			}
		}
	}
	if m := probLine.FindStringSubmatch(line); m != nil && section == ModelMarkov {
		return exps, add(ModelMarkov, "", FieldProbability, m[1])
	}
	if m := valuesLine.FindStringSubmatch(line); m != nil && section == sectionHeuristic {
		return valuesExpectations(m[1], m[2], m[3])
	}
	if section == ModelShapley {
		return shapleyExpectations(line)
	}
	return exps, nil
}

// valuesExpectations reads "Values (first / last) for alpha: 1.5 / 2.5".
func valuesExpectations(models, key, values string) ([]Expectation, error) {
	ms, vs := strings.Split(models, "/"), strings.Split(values, "/")
	if len(ms) != len(vs) {
		return nil, fmt.Errorf("cannot read reference values of %s: %d models but %d values", key, len(ms), len(vs))
	}
	exps := make([]Expectation, 0, len(ms))
	for i := range ms {
		m := heuristicModel(ms[i])
		if m == "" {
			return nil, fmt.Errorf("cannot read reference values of %s: unknown model %q", key, ms[i])
		}
		e, err := expectation(m, key, FieldValue, vs[i])
		if err != nil {
			return nil, err
		}
		exps = append(exps, e)
	}
	return exps, nil
}

// shapleyExpectations reads "alpha 7627.944, eta 3613.656" and "(sum 19785; …)".
func shapleyExpectations(line string) ([]Expectation, error) {
	if m := shapleySum.FindStringSubmatch(line); m != nil {
		e, err := expectation(ModelShapley, "", FieldSum, m[1])
		return []Expectation{e}, err
	}
	var exps []Expectation
	line = strings.TrimRight(line, ",.")
	if line == "" {
		return nil, nil
	}
	for _, part := range strings.Split(line, ",") {
		m := shapleyPair.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			return nil, nil // not a line of values
		}
		e, err := expectation(ModelShapley, m[1], FieldConversions, m[2])
		if err != nil {
			return nil, err
		}
		exps = append(exps, e)
	}
	return exps, nil
}

// expectation parses a published number, keeping its precision.
func expectation(model, key, field, text string) (Expectation, error) {
	text = strings.ReplaceAll(strings.TrimSpace(text), ",", "")
	want, err := strconv.ParseFloat(text, 64)
	if err != nil || !finite(want) {
		return Expectation{}, fmt.Errorf("cannot parse reference %s %s of %q: %q is not a number", model, field, key, text)
	}
	decimals := 0
	if dot := strings.IndexByte(text, '.'); dot >= 0 {
		decimals = len(text) - dot - 1
	}
	return Expectation{Model: model, Key: key, Field: field, Want: want, Decimals: decimals}, nil
}

// Matches reports whether got equals e.Want at the precision e was published with: got
// rounded to e.Decimals decimals is e.Want.
func (e Expectation) Matches(got float64) bool {
	tol := 0.5*math.Pow(10, -float64(e.Decimals)) + 1e-9*math.Max(1, math.Abs(e.Want))
	return math.Abs(got-e.Want) <= tol
}
