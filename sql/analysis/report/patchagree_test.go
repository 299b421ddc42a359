package report

import (
	"math/rand"
	"reflect"
	"testing"
)

// randomDay returns a grouped day of n rows drawn from rng: groups from a pool of hashes
// shared by every day (so that groups have parts on several days, as sessions across
// midnight and a person's conversions without a session do), persons from a small pool
// (so that a person has several groups), some rows email opens, some conversions, a few of
// them copies of another day's (a replay: the same event id, time and value).
func randomDay(rng *rand.Rand, n int) *dayRows {
	// touch_keys as touch_rows gives them: channel, source, ... joined by 0xFF, so that the
	// keys readers take (testKeys) differ
	keys := []string{"\xffg\xff", "Paid Search\xffgoogle", "Email\xffnews\xffemail", "Organic Search\xff", "Referral"}
	d := &dayRows{keyOf: map[string]uint32{}}
	for range n {
		row := touchRow{hash: uint64(rng.Intn(400))<<50 | 1, anon: uint64(1 + rng.Intn(60))}
		if rng.Intn(4) == 0 {
			row.user = uint64(100 + rng.Intn(10))
		}
		if rng.Intn(3) > 0 {
			row.t = uint32(1 + rng.Intn(50))
		}
		if rng.Intn(10) == 0 {
			row.flags = emailRow
		}
		conv := rng.Intn(3) == 0
		c := rowConversion{t: uint32(rng.Intn(50)), v: float64(rng.Intn(4)), id: string(rune('a' + rng.Intn(20)))}
		if err := d.row(row, keys[rng.Intn(len(keys))], conv, c); err != nil {
			panic(err)
		}
	}
	d.done(true)
	return d
}

// randomLinks returns links of some of the persons' keys (anonymous ids and users) to users.
func randomLinks(rng *rand.Rand) map[uint64]uint64 {
	links := map[uint64]uint64{}
	for range rng.Intn(15) {
		links[uint64(1+rng.Intn(110))] = uint64(100 + rng.Intn(10))
	}
	return links
}

// testKeys are the keys the readers of the patched reads take: the whole touch_key, the
// channel, the source.
var testKeys = []touchKey{{}, {field: 1, empty: "Direct"}, {field: 2, empty: "(none)"}}

// regroup returns the batches and the groups of one read of days grouped afresh.
func regroup(t *testing.T, days []*dayRows, links map[uint64]uint64) ([]*personBatch, []keptGroup) {
	t.Helper()
	g := &touchGrouper{links: links}
	if err := g.group(days); err != nil {
		t.Fatal(err)
	}
	var batches []*personBatch
	g.send(func(b *personBatch) { batches = append(batches, b) })
	return batches, keptGroups(g)
}

// keyedBatch is a batch as a reader of one key sees it: its rows with their keys written
// out, so that batches of key tables in another order compare equal.
type keyedBatch struct {
	touches []keyedTouch
	visits  []keyedVisit
	convs   []conversionAt
	ends    []personEnd
}

type keyedTouch struct {
	t uint32
	k string
}

type keyedVisit struct {
	t, convs uint32
	k        string
	value    float64
}

// keyed returns batches as a reader of each of testKeys sees them (sendByKey).
func keyed(batches []*personBatch) map[touchKey][]keyedBatch {
	out := map[touchKey][]keyedBatch{}
	for _, key := range testKeys {
		for _, b := range batches {
			keys := key.keysOf(b.keys)
			kb := keyedBatch{convs: b.convs, ends: b.ends}
			for _, x := range b.touches {
				kb.touches = append(kb.touches, keyedTouch{x.t, keys[x.k]})
			}
			for _, x := range b.visits {
				kb.visits = append(kb.visits, keyedVisit{x.t, x.convs, keys[x.k], x.value})
			}
			out[key] = append(out[key], kb)
		}
	}
	return out
}

// TestPatchAgreesWithRegroup: on random days (groups across days, replays, email opens,
// persons with many groups, links), a kept read patched after some of its days changed,
// were dropped or came back empty, and after its links changed, gives the very batches
// (each person's touchpoints, sessions and conversions, and where each batch ends) and
// groups that grouping every day again gives, again and again as changes pile up; the
// groups merged by four goroutines however few they are.
func TestPatchAgreesWithRegroup(t *testing.T) {
	defer func(was int) { minRangeRows = was }(minRangeRows)
	minRangeRows = 1
	for seed := int64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewSource(seed))
		r := &Runner{StoreBytes: 1 << 30}
		days := make([]*dayRows, 8)
		for i := range days {
			days[i] = randomDay(rng, rng.Intn(300))
		}
		links := randomLinks(rng)
		batches, groups := regroup(t, days, links)
		r.keepBatches("q", days, links, batches, groups)
		for step := range 6 {
			days = append([]*dayRows(nil), days...)
			for range 1 + rng.Intn(2) {
				i := rng.Intn(len(days))
				switch rng.Intn(4) {
				case 0:
					days[i] = &dayRows{} // its events gone
				case 1:
					days[i] = randomDay(rng, rng.Intn(300)) // read again, other rows
				default: // read again with a few rows more
					days[i] = randomDay(rand.New(rand.NewSource(seed*100+int64(step))), 50+rng.Intn(200))
				}
			}
			if rng.Intn(2) == 0 {
				links = randomLinks(rng)
			}
			patch, err := r.patchRead("q", days, links)
			if err != nil {
				t.Fatal(err)
			}
			want, wantGroups := regroup(t, days, links)
			if len(wantGroups) == 0 {
				continue
			}
			if patch == nil {
				t.Fatalf("seed %d step %d: not patched", seed, step)
			}
			got, gotGroups := patch.cut()
			if !reflect.DeepEqual(keyed(got), keyed(want)) || !reflect.DeepEqual(gotGroups, wantGroups) {
				t.Fatalf("seed %d step %d: the patched read differs from the regrouped one:\n%+v\n%+v", seed, step, keyed(got), keyed(want))
			}
			r.keepBatches("q", days, links, got, gotGroups)
		}
	}
}
