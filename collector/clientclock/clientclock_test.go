package clientclock

import (
	"testing"
	"time"
)

func TestCorrect(t *testing.T) {
	recv := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f := func(ts, sent time.Time, want time.Time, wantOK bool) {
		t.Helper()
		got, ok := Correct(ts, sent, recv)
		if !got.Equal(want) || ok != wantOK {
			t.Fatalf("Correct(%v, %v) = %v, %v; want %v, %v", ts, sent, got, ok, want, wantOK)
		}
	}
	var zero time.Time
	f(zero, zero, recv, true)
	f(recv.Add(-time.Hour), zero, recv.Add(-time.Hour), true)
	// The client's clock is 10 years ahead: the event happened 5 s before it was sent.
	skew := 10 * 365 * 24 * time.Hour
	f(recv.Add(skew-5*time.Second), recv.Add(skew), recv.Add(-5*time.Second), true)
	f(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), zero, recv, false)
	f(recv.Add(25*time.Hour), zero, recv, false)
	f(recv.Add(23*time.Hour), zero, recv.Add(23*time.Hour), true)
	// sent earlier than ts by 30 years: the correction lands beyond the bound.
	f(recv, recv.Add(-30*365*24*time.Hour), recv, false)
}

func TestFromMillis(t *testing.T) {
	f := func(ms int64, want time.Time) {
		t.Helper()
		if got := FromMillis(ms); !got.Equal(want) {
			t.Fatalf("FromMillis(%d) = %v, want %v", ms, got, want)
		}
	}
	f(0, time.Time{})
	f(1700000000123, time.UnixMilli(1700000000123))
	f(1<<62, time.Unix(0, 0))
	f(-(1 << 62), time.Unix(0, 0))
}
