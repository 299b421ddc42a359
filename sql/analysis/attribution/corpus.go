package attribution

import (
	"fmt"
	"math"
)

// corpus is the paths with their keys interned to small integers, so that the models work on
// flat slices instead of maps of strings.
type corpus struct {
	keys    []string // key of each channel id, in order of first appearance
	touches []int32  // the channel ids of every path, concatenated
	offsets []int    // path i is touches[offsets[i]:offsets[i+1]]
	paths   []Path
}

// newCorpus validates paths and interns their keys.
func newCorpus(paths []Path) (*corpus, error) {
	c := &corpus{offsets: make([]int, 1, len(paths)+1), paths: paths}
	ids := make(map[string]int32)
	for i := range paths {
		if err := checkPath(&paths[i]); err != nil {
			return nil, fmt.Errorf("cannot use path %d %q: %w", i, paths[i].Channels, err)
		}
		for _, ch := range paths[i].Channels {
			id, ok := ids[ch]
			if !ok {
				id = int32(len(c.keys))
				ids[ch] = id
				c.keys = append(c.keys, ch)
			}
			c.touches = append(c.touches, id)
		}
		c.offsets = append(c.offsets, len(c.touches))
	}
	return c, nil
}

// checkPath rejects counts that no model can credit.
func checkPath(p *Path) error {
	if !finite(p.Conversions) || p.Conversions < 0 {
		return fmt.Errorf("conversions %v must be a finite number >= 0", p.Conversions)
	}
	if !finite(p.Nulls) || p.Nulls < 0 {
		return fmt.Errorf("nulls %v must be a finite number >= 0", p.Nulls)
	}
	if !finite(p.Value) {
		return fmt.Errorf("value %v must be a finite number", p.Value)
	}
	if p.AgeDays == nil {
		return nil
	}
	if len(p.AgeDays) != len(p.Channels) {
		return fmt.Errorf("%d ages for %d channels: want one age a channel", len(p.AgeDays), len(p.Channels))
	}
	for _, a := range p.AgeDays {
		if !finite(a) || a < 0 {
			return fmt.Errorf("age %v days must be a finite number >= 0", a)
		}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// path returns the channel ids of path i.
func (c *corpus) path(i int) []int32 { return c.touches[c.offsets[i]:c.offsets[i+1]] }

// credits accumulates conversions and value per channel id.
type credits struct {
	conv, value []float64
}

func (c *corpus) newCredits() credits {
	return credits{conv: make([]float64, len(c.keys)), value: make([]float64, len(c.keys))}
}

// add gives channel id the share of path p's conversions and value.
func (cr credits) add(id int32, share float64, p *Path) {
	cr.conv[id] += share * p.Conversions
	cr.value[id] += share * p.Value
}

// result turns accumulated credits into a Result with one row per key of the corpus.
func (c *corpus) result(model string, cr credits) Result {
	rows := make([]Credit, len(c.keys))
	for i, k := range c.keys {
		rows[i] = Credit{Key: k, Conversions: cr.conv[i], Value: cr.value[i]}
	}
	return Result{Model: model, Rows: rows}
}
