package event

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

// everyField returns an event with every field set to a value of its own, found by
// reflection, so that a field added to Event and forgotten by the encoding fails the test.
func everyField(t testing.TB) Event {
	var e Event
	v := reflect.ValueOf(&e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("value of " + v.Type().Field(i).Name + " ü")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.25)
		case reflect.Uint32:
			f.SetUint(uint64(i) << 20)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"k" + strconv.Itoa(i), "", "third"}))
		case reflect.Struct:
			f.Set(reflect.ValueOf(time.Date(2026, 11, 23, 15, 4, 5, i*1000+7, time.UTC)))
		default:
			t.Fatalf("field %s of kind %s: teach everyField and the binary encoding about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	return e
}

func TestBinaryRoundTrip(t *testing.T) {
	full := everyField(t)
	mismatched := full
	mismatched.PropKeys, mismatched.PropValues = []string{"a", "b"}, []string{"x"}
	for name, e := range map[string]Event{
		"every field":           full,
		"zero":                  {},
		"empty, not nil, props": {PropKeys: []string{}, PropValues: []string{}},
		"props of two lengths":  mismatched,
		"before 1970":           {TS: time.Date(1900, 1, 1, 0, 0, 0, 5, time.UTC)},
		"negative revenue":      {Revenue: -12.5, Currency: "RUB"},
	} {
		var got Event
		if err := got.UnmarshalBinary(AppendBinary(nil, &e)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s: decoded\n%+v\nwant\n%+v", name, got, e)
		}
	}
}

func TestBinaryRefusesDamage(t *testing.T) {
	e := everyField(t)
	data := AppendBinary(nil, &e)
	for n := 0; n < len(data); n++ {
		var got Event
		if err := got.UnmarshalBinary(data[:n]); err == nil {
			t.Fatalf("the first %d of %d bytes decoded without an error", n, len(data))
		}
	}
	var got Event
	if err := got.UnmarshalBinary(append(data, 0)); err == nil {
		t.Fatal("a trailing byte decoded without an error")
	}
	if err := got.UnmarshalBinary(append([]byte{9}, data[1:]...)); err == nil {
		t.Fatal("an unknown version decoded without an error")
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	e := everyField(b)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBinary(buf[:0], &e)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	e := everyField(f)
	f.Add(AppendBinary(nil, &e))
	f.Add(AppendBinary(nil, &Event{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Event
		if err := got.UnmarshalBinary(data); err != nil {
			return
		}
		var again Event
		if err := again.UnmarshalBinary(AppendBinary(nil, &got)); err != nil {
			t.Fatalf("re-encoding of a decoded event does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("re-encoded event decodes differently:\n%+v\n%+v", again, got)
		}
	})
}
