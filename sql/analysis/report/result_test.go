package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"bytes"
	"math"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	res := &Result{Tables: []Table{{Name: "funnel", Columns: []string{"segment", "entered", "rate"},
		Rows: [][]any{{"mobile", int64(10), 0.25}, {"a,b", int64(2), math.NaN()}}}}}
	f := func(format, want string) {
		t.Helper()
		var b bytes.Buffer
		if err := Write(&b, res, format); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != want {
			t.Fatalf("Write(%s) =\n%s\nwant\n%s", format, got, want)
		}
	}
	f("table", "# funnel\nsegment  entered  rate\nmobile   10       0.25\na,b      2        \n")
	f("csv", "table,segment,entered,rate\nfunnel,mobile,10,0.25\nfunnel,\"a,b\",2,\n")
	f("json", `{
  "funnel": [
    {
      "entered": 10,
      "rate": 0.25,
      "segment": "mobile"
    },
    {
      "entered": 2,
      "rate": null,
      "segment": "a,b"
    }
  ]
}
`)
	if err := Write(&bytes.Buffer{}, res, "xml"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Fatalf("Write(xml) error = %v", err)
	}
}

func TestFunnelRows(t *testing.T) {
	steps, err := goal.ParseSteps("event:a,event:b,event:c")
	if err != nil {
		t.Fatal(err)
	}
	rows := funnelRows(steps, "mobile", []int64{100, 40, 10}, []float64{0, 60, 120})
	want := []FunnelRow{
		{Segment: "mobile", Step: 1, Name: "event:a", Entered: 100, FromFirst: 1, FromPrev: 1},
		{Segment: "mobile", Step: 2, Name: "event:b", Entered: 40, FromFirst: 0.4, FromPrev: 0.4, Dropped: 60, MedianDelay: 60e9},
		{Segment: "mobile", Step: 3, Name: "event:c", Entered: 10, FromFirst: 0.1, FromPrev: 0.25, Dropped: 30, MedianDelay: 120e9},
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Fatalf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
	b := barriers("device", rows, map[int]float64{2: 0.5, 3: 0.5})
	if len(b) != 2 || b[0].Lost != 10 || b[1].Lost != 10 {
		t.Fatalf("barriers = %+v, want 10 lost at each step (40 of 100 against 50 %%, 10 of 40 against 50 %%)", b)
	}
}

func TestBuckets(t *testing.T) {
	f := func(days int, want string) {
		t.Helper()
		if got := dayBucket(days); got != want {
			t.Fatalf("dayBucket(%d) = %s, want %s", days, got, want)
		}
	}
	f(0, "0")
	f(1, "1")
	f(3, "2-3")
	f(7, "4-7")
	f(30, "15-30")
	f(31, "31+")
	for n, want := range map[int]string{0: "1", 1: "1", 4: "4", 5: "5-7", 8: "8+"} {
		if got := touchBucket(n); got != want {
			t.Fatalf("touchBucket(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestDefinitions(t *testing.T) {
	d := goal.Definitions{Conversions: []goal.Conversion{{Name: "lead", Event: "server:lead_created", Where: map[string]string{"src": "form"}, Value: "amount"}}}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := d.Conversion("lead")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := c.Step()
	if got, want := cond(st), "(type = 'server' AND name = 'lead_created' AND `props.value`[indexOf(`props.key`, 'src')] = 'form')"; got != want {
		t.Fatalf("lead condition = %s, want %s", got, want)
	}
	if got := valueExpr(c); got != "toFloat64OrZero(`props.value`[indexOf(`props.key`, 'amount')])" {
		t.Fatalf("lead value = %s", got)
	}
	if c, _ := d.Conversion("signup"); c.Name != "signup" || c.Event != "" {
		t.Fatalf("an undefined conversion should be its event name, got %+v", c)
	}
	if len(d.StageList()) != 6 || d.StageList()[0].Name != "awareness" {
		t.Fatalf("default stages: %+v", d.StageList())
	}
	for _, bad := range []goal.Definitions{
		{Conversions: []goal.Conversion{{Event: "x"}}},
		{Stages: []goal.Stage{{Name: "a", Match: "event:x["}}},
		{Stages: []goal.Stage{{Match: "x"}}},
	} {
		if err := bad.Validate(); err == nil {
			t.Fatalf("Validate(%+v) = nil, want an error", bad)
		}
	}
}
