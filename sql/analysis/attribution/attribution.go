// Package attribution owns the attribution models of journeyd (DESIGN §8): given path
// aggregates (distinct journeys before a conversion, or before giving up, with how often each
// occurred), it credits conversions and conversion value to the touchpoint keys (channels,
// sources or campaigns) with heuristic models, an exact first-order Markov chain and the
// Shapley value. It also reads paths in ChannelAttribution's file format and checks results
// against published reference figures.
//
// It does not build paths from events: that is the job of the report queries, which hand
// their rows to Compute. Everything here is pure Go and deterministic.
package attribution

import (
	"fmt"
	"math"
	"sort"
)

// Path is one distinct journey before a conversion (or before giving up), with how often it
// occurred.
type Path struct {
	// Channels are the touchpoint keys in time order (channel, or source, or campaign).
	Channels []string
	// AgeDays optionally holds, for each touch, the days between it and the conversion (used
	// by time decay); nil means unknown, and time decay then weighs the path's touches
	// equally (see timeDecay). When set it must have one entry per channel.
	AgeDays []float64
	// Conversions is how many journeys along this path converted.
	Conversions float64
	// Value is the total conversion value of those journeys.
	Value float64
	// Nulls is how many journeys along this path did not convert.
	Nulls float64
}

// Credit is what one model gives one key.
type Credit struct {
	Key         string  `json:"key"`
	Conversions float64 `json:"conversions"`
	Value       float64 `json:"value"`
	// RemovalEffect is set by the markov model only: the relative drop in the probability
	// of conversion when the key is removed from the chain.
	RemovalEffect float64 `json:"removal_effect"`
}

// Result is the output of one model: its name and one row per key, sorted by conversions
// descending, then key ascending.
type Result struct {
	Model string   `json:"model"`
	Rows  []Credit `json:"rows"`
}

// Options tune the models. The zero value means the defaults (see DefaultOptions).
type Options struct {
	// HalfLifeDays is the half-life of time decay: a touch HalfLifeDays before the
	// conversion weighs half as much as one at the conversion. 0 means 7.
	HalfLifeDays float64
	// FirstShare and LastShare are the position-based shares of the first and last touch;
	// the rest is spread over the middle touches. Both 0 means 0.4 and 0.4.
	FirstShare, LastShare float64
	// Direct is the key that last non-direct skips. "" means "Direct".
	Direct string
	// OrderedShapley makes the shapley model return the ordered variant, model name
	// "shapley_ordered", keyed "channel@position" (see shapley.go).
	OrderedShapley bool
}

// Model names accepted by Compute; "all" stands for every one of them in this order.
const (
	ModelFirst         = "first"
	ModelLast          = "last"
	ModelLastNonDirect = "last_non_direct"
	ModelLinear        = "linear"
	ModelTimeDecay     = "time_decay"
	ModelPosition      = "position"
	ModelMarkov        = "markov"
	ModelShapley       = "shapley"
	ModelAll           = "all"
)

// Models lists every model name in the order "all" runs them.
var Models = []string{ModelFirst, ModelLast, ModelLastNonDirect, ModelLinear,
	ModelTimeDecay, ModelPosition, ModelMarkov, ModelShapley}

// DefaultOptions returns the defaults of DESIGN §8: a 7-day half-life, 40/40 position
// shares and "Direct" as the direct key.
func DefaultOptions() Options {
	return Options{HalfLifeDays: 7, FirstShare: 0.4, LastShare: 0.4, Direct: "Direct"}
}

// withDefaults fills unset options and checks the rest.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.HalfLifeDays == 0 {
		o.HalfLifeDays = d.HalfLifeDays
	}
	if o.FirstShare == 0 && o.LastShare == 0 {
		o.FirstShare, o.LastShare = d.FirstShare, d.LastShare
	}
	if o.Direct == "" {
		o.Direct = d.Direct
	}
	if !(o.HalfLifeDays > 0) || math.IsInf(o.HalfLifeDays, 0) {
		return o, fmt.Errorf("cannot use half-life of %v days: it must be a positive number", o.HalfLifeDays)
	}
	if !(o.FirstShare >= 0 && o.LastShare >= 0 && o.FirstShare+o.LastShare <= 1) {
		return o, fmt.Errorf("cannot use position shares %v and %v: each must be >= 0 and their sum <= 1",
			o.FirstShare, o.LastShare)
	}
	return o, nil
}

// modelFunc computes one model over the indexed paths.
type modelFunc func(c *corpus, opt Options) (Result, error)

var modelFuncs = map[string]modelFunc{
	ModelFirst:         firstTouch,
	ModelLast:          lastTouch,
	ModelLastNonDirect: lastNonDirect,
	ModelLinear:        linear,
	ModelTimeDecay:     timeDecay,
	ModelPosition:      positionBased,
	ModelMarkov:        markov,
	ModelShapley:       shapley,
}

// Compute runs the named models (or "all") over paths and returns one Result a model, in the
// order asked. Paths without channels carry no touch to credit and are left out of every
// model; their conversions are not attributed.
func Compute(paths []Path, models []string, opt Options) ([]Result, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	names, err := expandModels(models)
	if err != nil {
		return nil, err
	}
	c, err := newCorpus(paths)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(names))
	for _, name := range names {
		r, err := modelFuncs[name](c, opt)
		if err != nil {
			return nil, fmt.Errorf("cannot compute %s attribution over %d paths: %w", name, len(paths), err)
		}
		sortRows(r.Rows)
		out = append(out, r)
	}
	return out, nil
}

// expandModels resolves "all", drops duplicates and rejects unknown names.
func expandModels(models []string) ([]string, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("cannot compute attribution: no model named (want one of %v or %q)", Models, ModelAll)
	}
	seen := make(map[string]bool, len(Models))
	var names []string
	for _, m := range models {
		list := []string{m}
		if m == ModelAll {
			list = Models
		} else if modelFuncs[m] == nil {
			return nil, fmt.Errorf("cannot compute attribution model %q: unknown (want one of %v or %q)", m, Models, ModelAll)
		}
		for _, n := range list {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names, nil
}

// sortRows orders rows by conversions descending, then key ascending.
func sortRows(rows []Credit) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Conversions != rows[j].Conversions {
			return rows[i].Conversions > rows[j].Conversions
		}
		return rows[i].Key < rows[j].Key
	})
}
