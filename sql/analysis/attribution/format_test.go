package attribution

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func computeHand(t *testing.T, models ...string) []Result {
	t.Helper()
	res, err := Compute(twoChannelPaths(), models, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, computeHand(t, ModelLast, ModelMarkov), FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Models []struct {
			Model string                       `json:"model"`
			Rows  []map[string]json.RawMessage `json:"rows"`
		} `json:"models"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	if len(doc.Models) != 2 || doc.Models[1].Model != ModelMarkov {
		t.Fatalf("models %+v, want last then markov", doc.Models)
	}
	row := doc.Models[1].Rows[0] // B: removal effect 1, 1.2 conversions, 4.8 of value
	want := map[string]string{"key": `"B"`, "conversions": "1.2", "value": "4.8", "removal_effect": "1"}
	for k, v := range want {
		if got := string(row[k]); !strings.HasPrefix(got, v) || len(row) != len(want) {
			t.Errorf("markov row %s = %s, want %s (row %v)", k, got, v, row)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, computeHand(t, ModelFirst, ModelShapley), FormatCSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"model", "key", "conversions", "value", "removal_effect"},
		{"first", "A", "1", "5", "0"},
		{"first", "B", "1", "3", "0"},
		{"shapley", "B", "1.5", "5.5", "0"},
		{"shapley", "A", "0.5", "2.5", "0"},
	}
	if got, w := strings.Join(flatten(recs), "|"), strings.Join(flatten(want), "|"); got != w {
		t.Errorf("CSV\n got %s\nwant %s", got, w)
	}
}

func flatten(recs [][]string) []string {
	var out []string
	for _, r := range recs {
		out = append(out, strings.Join(r, ","))
	}
	return out
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, computeHand(t, ModelLinear, ModelMarkov), FormatTable); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"# linear", "key  conversions  value", "B    1.5000       5.5000", "A    0.5000       2.5000", "",
		"# markov", "key  conversions  value   removal effect", "B    1.2000       4.8000  1.000000", "A    0.8000       3.2000  0.666667"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("table\n%s\nwant\n%s", buf.String(), strings.Join(want, "\n"))
	}
	if err := Write(&buf, nil, "xml"); err == nil || !strings.Contains(err.Error(), `as "xml"`) {
		t.Errorf("Write as xml: error %v, want an unknown-format error", err)
	}
}
