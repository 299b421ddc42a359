package report

import "testing"

// TestBatchEndsFit: 5 000 people of two touchpoints each, person i with a conversion when i
// is a multiple of 8 and a session when a multiple of 3, fill batches until their touchpoints and conversions reach
// batchRows (2 048). 964 people hold 1 928 touchpoints and 120 or 121 conversions (2 048 or
// 2 049), 963 at most 1 926 + 121 = 2 047: five batches of 964 people (people 0-4819), with
// 121 conversions when the batch starts at a multiple of 8 (people 0, 1928 and 3856) and
// 120 when not (964, 2892), and a last of 180 people with 22 conversions (4824 ... 4992).
// Sessions count nowhere in a batch's end: the five hold 322 (0 ... 963), 321 (966 ...
// 1926), 321 (1929 ... 2889), 322 (2892 ... 3855) and 321 (3858 ... 4818), the last 60
// (4821 ... 4998).
//
// Each batch handed out holds its people's ends, conversions and sessions in slices of
// about their length, not the room they were filled in (2 048 ends, 512 conversions, 2 048
// sessions), so that a kept batch holds no spare room (newBatch), and its people end where
// they were added.
func TestBatchEndsFit(t *testing.T) {
	var out []*personBatch
	send := func(b *personBatch) { out = append(out, b) }
	b, from := newBatch().withVisits(), personEnd{}
	b.keys = []string{"a", "b"}
	for i := range 5000 {
		b.touches = append(b.touches, touchpoint{uint32(i), 1}, touchpoint{uint32(i), 0})
		if i%8 == 0 {
			b.convs = append(b.convs, conversionAt{uint32(i), 1})
		}
		if i%3 == 0 {
			b.visits = append(b.visits, sessionVisit{t: uint32(i), k: 1})
		}
		b, from = b.endPerson(from, send)
	}
	b.fit()
	send(b)
	want, wantConvs := []int{964, 964, 964, 964, 964, 180}, []int{121, 120, 121, 120, 121, 22}
	wantVisits := []int{322, 321, 321, 322, 321, 60}
	if len(out) != len(want) {
		t.Fatalf("%d batches, want %d", len(out), len(want))
	}
	person := 0
	for i, b := range out {
		// the exact length, up to the allocator's size class (at most a quarter more)
		if len(b.ends) != want[i] || cap(b.ends) > want[i]+want[i]/4 {
			t.Errorf("batch %d: %d people in room for %d, want %d in about as much", i, len(b.ends), cap(b.ends), want[i])
		}
		if convs := wantConvs[i]; len(b.convs) != convs || cap(b.convs) > convs+convs/4 {
			t.Errorf("batch %d: %d conversions in room for %d, want %d in about as much", i, len(b.convs), cap(b.convs), convs)
		}
		if visits := wantVisits[i]; len(b.visits) != visits || cap(b.visits) > visits+visits/4 {
			t.Errorf("batch %d: %d sessions in room for %d, want %d in about as much", i, len(b.visits), cap(b.visits), visits)
		}
		visitor := person
		b.sessionPeople(func(visits []sessionVisit, _ []conversionAt) {
			if wantVisit := visitor%3 == 0; wantVisit != (len(visits) == 1) || wantVisit && visits[0].t != uint32(visitor) {
				t.Errorf("batch %d: person %d has sessions %v", i, visitor, visits)
			}
			visitor++
		})
		b.people(func(touches []touchpoint, convs []conversionAt) {
			// sorted by time, then key: "a" (index 0) before "b"
			if len(touches) != 2 || touches[0].t != uint32(person) || b.keys[touches[0].k] != "a" || b.keys[touches[1].k] != "b" {
				t.Errorf("batch %d: person %d has %v", i, person, touches)
			}
			if wantConv := person%8 == 0; wantConv != (len(convs) == 1) || wantConv && convs[0].t != uint32(person) {
				t.Errorf("batch %d: person %d has conversions %v", i, person, convs)
			}
			person++
		})
	}
	if person != 5000 {
		t.Errorf("%d people handed out, want 5000", person)
	}
}
