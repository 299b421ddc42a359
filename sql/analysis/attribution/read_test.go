package attribution

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadPaths(t *testing.T) {
	f := func(in string, want []Path) {
		t.Helper()
		got, err := ReadPaths(strings.NewReader(in))
		if err != nil {
			t.Fatalf("ReadPaths(%q): %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadPaths(%q)\n got %+v\nwant %+v", in, got, want)
		}
	}
	ab := []string{"a", "b"}
	f("path\ttotal_conversions\ttotal_conversion_value\ttotal_null\na > b\t1\t2.5\t3.0\n",
		[]Path{{Channels: ab, Conversions: 1, Value: 2.5, Nulls: 3}})
	// CSV, columns in another order, CRLF, a BOM, a quoted field, no trailing newline.
	f("\ufefftotal_null,path,total_conversions\r\n2,\"a > b\",1\r\n0,c,4",
		[]Path{{Channels: ab, Conversions: 1, Nulls: 2}, {Channels: []string{"c"}, Conversions: 4}})
	// Spaces around channels and separators without spaces; empty counts are 0.
	f("path,total_conversions,total_null\n a>b ,,\n", []Path{{Channels: ab}})
	// Channels with spaces inside keep them.
	f("path\ttotal_conversions\nPaid Search > Organic Search\t1\n",
		[]Path{{Channels: []string{"Paid Search", "Organic Search"}, Conversions: 1}})
	f("path\ttotal_conversions\n", nil)
}

func TestReadPathsRejects(t *testing.T) {
	f := func(in, wantErr string) {
		t.Helper()
		_, err := ReadPaths(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("ReadPaths(%q) error %v, want one containing %q", in, err, wantErr)
		}
	}
	f("", "cannot read paths header")
	f("channels,conversions\na,1\n", "want columns path and total_conversions")
	f("path,total_conversions\na > > b,1\n", "channel 2 is empty")
	f("path,total_conversions\n,1\n", "empty path")
	f("path,total_conversions\na,-1\n", "total_conversions \"-1\"")
	f("path,total_conversions\na,NaN\n", "total_conversions \"NaN\"")
	f("path,total_conversions,total_null\na,1,x\n", "total_null \"x\"")
	f("path,total_conversions,total_conversion_value\na,1,Inf\n", "total_conversion_value \"Inf\"")
	f("path,total_conversions\na,1\nb,x\n", "line 3")
	f("path,total_conversions\n\"a,1\n", "cannot read paths")
}

func FuzzReadPaths(f *testing.F) {
	f.Add("path\ttotal_conversions\ttotal_conversion_value\ttotal_null\na > b\t1\t2.5\t3.0\n")
	f.Add("path,total_conversions\n\"a > b\",1\nc,0\n")
	f.Add("\ufefftotal_null,path,total_conversions\r\n2,x,1")
	f.Add("path\ttotal_conversions\n\"a\t1\n")
	f.Fuzz(func(t *testing.T, in string) {
		paths, err := ReadPaths(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, p := range paths {
			if len(p.Channels) == 0 {
				t.Fatalf("path without channels from %q", in)
			}
			for _, ch := range p.Channels {
				if ch == "" || strings.TrimSpace(ch) != ch {
					t.Fatalf("channel %q not trimmed or empty from %q", ch, in)
				}
			}
		}
		// Whatever ReadPaths accepts, every model must accept.
		if _, err := Compute(paths, []string{ModelAll}, Options{}); err != nil {
			t.Fatalf("Compute rejects paths that ReadPaths accepted from %q: %v", in, err)
		}
	})
}
