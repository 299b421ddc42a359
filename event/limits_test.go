package event

import (
	"strings"
	"testing"
)

// Two message ids of 200 bytes that share their first 150 stay two events: cutting them at
// MaxIDLen (128) made one event id of both, and ClickHouse kept one of the two messages.
// A retry of the same long id is the same event, and an id of up to 128 bytes is kept as
// sent.
func TestLongMessageIDsStayDistinct(t *testing.T) {
	common := strings.Repeat("m", 150)
	a := Event{ID: common + strings.Repeat("a", 50)}
	b := Event{ID: common + strings.Repeat("b", 50)}
	retry := Event{ID: a.ID}
	for _, e := range []*Event{&a, &b, &retry} {
		e.Normalize()
	}
	if a.ID == b.ID {
		t.Fatalf("two different 200-byte message ids became one event id %q", a.ID)
	}
	if a.ID != retry.ID {
		t.Fatalf("the same long message id became two event ids %q and %q", a.ID, retry.ID)
	}
	// "sha256:" (7 bytes) and 64 hex digits: 71 bytes, within MaxIDLen.
	if len(a.ID) != 71 || !strings.HasPrefix(a.ID, LongIDPrefix) {
		t.Fatalf("long id became %q (%d bytes), want sha256: and 64 hex digits", a.ID, len(a.ID))
	}
	exact := Event{ID: strings.Repeat("x", MaxIDLen)}
	exact.Normalize()
	if exact.ID != strings.Repeat("x", MaxIDLen) {
		t.Fatalf("an id of exactly %d bytes changed to %q", MaxIDLen, exact.ID)
	}
}
