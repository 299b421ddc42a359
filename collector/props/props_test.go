package props

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/journeyd/journeyd/event"
)

func TestFlattenerObject(t *testing.T) {
	f := func(prefix, in, want string) {
		t.Helper()
		v, err := fastjson.Parse(in)
		if err != nil {
			t.Fatalf("bad test input %s: %v", in, err)
		}
		var e event.Event
		var fl Flattener
		fl.Object(&e, prefix, v.GetObject())
		var got []string
		for i, k := range e.PropKeys {
			got = append(got, k+"="+e.PropValues[i])
		}
		if g := strings.Join(got, " "); g != want {
			t.Fatalf("flatten %s:\n got %s\nwant %s", in, g, want)
		}
	}
	f("", `{}`, "")
	f("", `{"plan":"pro","n":3,"x":1.50,"ok":true,"no":false,"nil":null}`, "plan=pro n=3 x=1.50 ok=true no=false")
	f("", `{"a":{"b":{"c":"d"}},"tags":["x",1]}`, `a.b.c=d tags=["x",1]`)
	f("", `{"a":{"b":{"c":{"d":{"e":1}}}}}`, `a.b.c.d={"e":1}`)
	f("traits", `{"email":"a@b.c"}`, "traits.email=a@b.c")
	f("", `{"k":"v","k":"w"}`, "k=w")
	f("", `{"s":"\u00e9\n"}`, "s=é\n")
}

func TestFlattenerMaxProps(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"last":1}`)
	v := fastjson.MustParse(b.String())
	var e event.Event
	var fl Flattener
	fl.Object(&e, "", v.GetObject())
	if len(e.PropKeys) != event.MaxProps || e.PropKeys[0] != "k0" {
		t.Fatalf("kept %d properties starting with %q, want %d starting with k0", len(e.PropKeys), e.PropKeys[0], event.MaxProps)
	}
}

func TestFloat(t *testing.T) {
	f := func(in string, want float64, wantOK bool) {
		t.Helper()
		got, ok := Float(fastjson.MustParse(in))
		if got != want || ok != wantOK {
			t.Fatalf("Float(%s) = %v, %v; want %v, %v", in, got, ok, want, wantOK)
		}
	}
	f(`19.9`, 19.9, true)
	f(`"19.90"`, 19.9, true)
	f(`"abc"`, 0, false)
	f(`true`, 0, false)
	f(`1e999`, 0, false)
	f(`"NaN"`, 0, false)
}

func FuzzFlattener(f *testing.F) {
	f.Add(`{"a":{"b":[1,2,{"c":null}]},"d":"\ud800","e":-0.0e+5}`)
	f.Add(`{"":{"":{"":{"":{"":1}}}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		v, err := fastjson.Parse(in)
		if err != nil {
			return
		}
		var e event.Event
		var fl Flattener
		fl.Object(&e, "p", v.GetObject())
		if len(e.PropKeys) != len(e.PropValues) || len(e.PropKeys) > event.MaxProps {
			t.Fatalf("%d keys, %d values", len(e.PropKeys), len(e.PropValues))
		}
		for _, k := range e.PropKeys {
			if !strings.HasPrefix(k, "p.") {
				t.Fatalf("key %q lacks the prefix", k)
			}
		}
		Float(v)
		Millis(v)
	})
}
