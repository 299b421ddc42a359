package report

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/journeyd/journeyd/sql/analysis/attribution"
)

// The journey reports (attribution, paths, time-to-convert) read every person's
// touchpoints and conversions from the touchpoints query, ordered by person, and cut each
// person's journeys here, one person at a time, exactly as the library's
// include/journeys.sql and include/conversion_paths.sql cut them in SQL (a test holds the
// two to the same answers). On ClickHouse 18.16 building the per-person arrays and one row
// per conversion costs more server time than reading and grouping the events themselves;
// here it costs a sort of a few touchpoints per person, and memory for one person.

// touchpoint is one touchpoint of a person: its time (seconds) and key, an index into its
// batch's keys (personBatch.keys). 8 bytes and no pointer: a kept read holds millions of
// them, which the collector then need not scan (docs/BENCHMARKS.md).
type touchpoint struct {
	t, k uint32
}

// conversionAt is one conversion of a person: its time (seconds) and value.
type conversionAt struct {
	t uint32
	v float64
}

// cutJourney is one journey cut from a person's touchpoints: those before a conversion,
// within the lookback and after the previous conversion (converted), or those after the
// last conversion (a null path). keys and times are in time order.
type cutJourney struct {
	converted bool
	keys      []string
	times     []uint32
	convTime  uint32
	value     float64
}

// appendAges appends the journey's touchpoint ages in days before its conversion, rounded
// to 0.1 day as conversion_paths.sql rounds them (ClickHouse 18.16 rounds half away from
// zero), to out and returns it: out itself for a null path.
func (j *cutJourney) appendAges(out []float64) []float64 {
	if !j.converted {
		return out
	}
	for _, x := range j.times {
		out = append(out, round(float64(int64(j.convTime)-int64(x))/86400, 1))
	}
	return out
}

// eachJourney runs the touchpoints query for req, or joins an identical read (share.go),
// and calls fn with every journey of every person. fn must not keep the journey: its
// slices are reused.
func (r *Runner) eachJourney(ctx context.Context, req *Request, fn func(*cutJourney)) error {
	p, err := r.touchpointParams(req)
	if err != nil {
		return err
	}
	lookback := int64(req.Lookback / time.Second)
	var scratch cutJourney
	return r.readPeople(ctx, p, func(b *personBatch) {
		b.people(func(touches []touchpoint, convs []conversionAt) {
			cutJourneys(b.keys, touches, convs, lookback, &scratch, fn)
		})
	})
}

// touchpointParams returns the placeholders of the touchpoints query for req: the
// journey reports' (journeyParams) but the lookback, which eachJourney applies, with the
// conversion's value, and with the touches read from the sessions where they can be
// (touchParams).
func (r *Runner) touchpointParams(req *Request) (map[string]Value, error) {
	p, err := journeyParams(req)
	if err != nil {
		return nil, err
	}
	col, empty, _ := keyColumn(req) // journeyParams has checked it
	r.touchParams(req, p, col, empty)
	p["value"] = fragment(valueExpr(req.Conversion))
	delete(p, "lookback")
	return p, nil
}

// sortPerson sorts one person's touchpoints by time, then key (keys[k]), and conversions
// by time, then value: the order cutJourneys takes them in.
func sortPerson(keys []string, touches []touchpoint, convs []conversionAt) {
	slices.SortFunc(touches, func(a, b touchpoint) int {
		return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(keys[a.k], keys[b.k]))
	})
	slices.SortFunc(convs, func(a, b conversionAt) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.v, b.v))
	})
}

// cutJourneys calls fn with each journey of one person that has a touchpoint, keyed by
// keys: one per conversion, then the null path after the last one. touches and convs are
// sorted (sortPerson), touches perhaps by other keys than keys (a touch_rows read's batches
// are sorted by the whole touch_key and shared by every key, touchrows.go): a journey's
// touchpoints of the same second are put in the order of keys here. It only reads them.
func cutJourneys(keys []string, touches []touchpoint, convs []conversionAt, lookback int64, j *cutJourney, fn func(*cutJourney)) {
	previous := uint32(0)
	for i := 0; i <= len(convs); i++ {
		*j = cutJourney{converted: i < len(convs), keys: j.keys[:0], times: j.times[:0]}
		until, since := uint32(math.MaxUint32), uint32(0)
		if j.converted {
			j.convTime, j.value = convs[i].t, convs[i].v
			until = j.convTime
			since = uint32(max(int64(j.convTime)-lookback, 0))
		}
		for _, tp := range touches {
			if tp.t > previous && tp.t <= until && tp.t >= since {
				j.keys = append(j.keys, keys[tp.k])
				j.times = append(j.times, tp.t)
				for at := len(j.keys) - 1; at > 0 && j.times[at-1] == j.times[at] && j.keys[at-1] > j.keys[at]; at-- {
					j.keys[at-1], j.keys[at] = j.keys[at], j.keys[at-1]
				}
			}
		}
		if j.converted {
			previous = j.convTime
		}
		if len(j.keys) > 0 {
			fn(j)
		}
	}
}

// journeyPaths returns req's journeys grouped by path and ages, as attribution.sql
// groups them: the attribution engine's input.
func (r *Runner) journeyPaths(ctx context.Context, req *Request) ([]attribution.Path, error) {
	byPath := map[string]*attribution.Path{}
	// the path's key and ages, built in the same memory journey after journey: most
	// journeys take a path seen before, and a fresh builder for each key cost 0.13 s of
	// journeyd's CPU in a cold attribution at 10 million events (a profile)
	var key []byte
	var ages []float64
	err := r.eachJourney(ctx, req, func(j *cutJourney) {
		ages = j.appendAges(ages[:0])
		key = key[:0]
		for _, k := range j.keys {
			key = append(key, k...)
			key = append(key, 0)
		}
		for _, a := range ages {
			key = strconv.AppendFloat(key, a, 'g', -1, 64)
			key = append(key, ',')
		}
		p := byPath[string(key)]
		if p == nil {
			var own []float64
			if j.converted {
				own = slices.Clone(ages)
			}
			p = &attribution.Path{Channels: slices.Clone(j.keys), AgeDays: own}
			byPath[string(key)] = p
		}
		if j.converted {
			p.Conversions++
			p.Value += j.value
		} else {
			p.Nulls++
		}
	})
	if err != nil {
		return nil, err
	}
	paths := make([]attribution.Path, 0, len(byPath))
	for _, p := range byPath {
		paths = append(paths, *p)
	}
	sortPaths(paths)
	return paths, nil
}

// pathsTable returns the paths report (paths.sql's columns and order): the top paths
// with a conversion, their conversions, null paths, conversion rate and median days from
// the first touchpoint to the conversion.
func (r *Runner) pathsTable(ctx context.Context, req *Request) (Table, error) {
	type agg struct {
		conversions, nulls int64
		days               []float64
	}
	byPath := map[string]*agg{}
	err := r.eachJourney(ctx, req, func(j *cutJourney) {
		path := strings.Join(j.keys, " > ")
		a := byPath[path]
		if a == nil {
			a = &agg{}
			byPath[path] = a
		}
		if !j.converted {
			a.nulls++
			return
		}
		a.conversions++
		a.days = append(a.days, float64(int64(j.convTime)-int64(j.times[0]))/86400)
	})
	t := Table{Name: "paths", Columns: []string{"path", "conversions", "nulls", "conversion_rate", "median_days"}}
	if err != nil {
		return t, err
	}
	names := make([]string, 0, len(byPath))
	for path, a := range byPath {
		if a.conversions > 0 {
			names = append(names, path)
		}
	}
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Or(cmp.Compare(byPath[y].conversions, byPath[x].conversions), strings.Compare(x, y))
	})
	for _, path := range names[:min(len(names), req.Top)] {
		a := byPath[path]
		rate := round(float64(a.conversions)/float64(a.conversions+a.nulls), 4)
		t.Rows = append(t.Rows, []any{path, a.conversions, a.nulls, rate, round(upperMedian(a.days), 2)})
	}
	return t, nil
}

// upperMedian returns the element at half the length of the sorted values, as
// ClickHouse's quantileExact(0.5) does (the upper of the two middle values).
func upperMedian(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	slices.Sort(values)
	return values[len(values)/2]
}

// timeToConvert calls fn with every conversion's whole days from its journey's first
// touchpoint and its number of touchpoints (time-to-convert.sql's rows, one conversion
// at a time).
func (r *Runner) timeToConvert(ctx context.Context, req *Request, fn func(days, touchpoints int)) error {
	return r.eachJourney(ctx, req, func(j *cutJourney) {
		if j.converted {
			fn(int((int64(j.convTime)-int64(j.times[0]))/86400), len(j.keys))
		}
	})
}
