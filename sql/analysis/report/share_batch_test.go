package report

import "testing"

// TestBatchEndsFit: people of one touchpoint each, 5 000 of them, fill batches of
// batchRows (2 048) touchpoints: two full batches of 2 048 people and a last of 904. Each
// batch handed out holds its people's ends in a slice of about their length, so that a
// kept batch holds no spare room (newBatch), and its people end where they were added.
func TestBatchEndsFit(t *testing.T) {
	var out []*personBatch
	send := func(b *personBatch) { out = append(out, b) }
	b, from := newBatch(), personEnd{}
	for i := range 5000 {
		b.touches = append(b.touches, touchpoint{uint32(i), "k"})
		b, from = b.endPerson(from, send)
	}
	b.fitEnds()
	send(b)
	want := []int{2048, 2048, 904}
	if len(out) != len(want) {
		t.Fatalf("%d batches, want %d", len(out), len(want))
	}
	person := 0
	for i, b := range out {
		// the exact length, up to the allocator's size class (at most an eighth more; a
		// quarter of batchRows grown twice was room for 2 048)
		if len(b.ends) != want[i] || cap(b.ends) > want[i]+want[i]/8 {
			t.Errorf("batch %d: %d people in room for %d, want %d in about as much", i, len(b.ends), cap(b.ends), want[i])
		}
		b.people(func(touches []touchpoint, _ []conversionAt) {
			if len(touches) != 1 || touches[0].t != uint32(person) {
				t.Errorf("batch %d: person %d has %v", i, person, touches)
			}
			person++
		})
	}
	if person != 5000 {
		t.Errorf("%d people handed out, want 5000", person)
	}
}
