package attribution

import "strconv"

// shapley computes the Shapley value of each channel in the game whose coalition worth v(S) is
// the conversions (or value) of the paths whose set of distinct channels lies inside S.
//
// That game is a sum of unanimity games, one a path, so its Shapley value has the closed form
// of Zhao, Mahboobi and Bagheri (2018): each channel gets, from every converting path whose
// channel set contains it, that path's conversions divided by the number of distinct channels
// in the path. It is linear in the total number of touches, and it equals the sum over all
// 2^n coalitions (the tests check this by brute force).
//
// With opt.OrderedShapley the ordered variant is returned instead (model "shapley_ordered"):
// the paper's refinement that keeps track of where in the journey a channel earned its credit.
// A channel's per-path share above is split evenly over the positions at which it occurs in
// the path, and credited to the key "channel@position" (positions count touches from 1).
// Summed over positions, a channel's ordered credits equal its Shapley value.
func shapley(c *corpus, opt Options) (Result, error) {
	if opt.OrderedShapley {
		return orderedShapley(c), nil
	}
	cr := c.newCredits()
	seen := make([]int, len(c.keys)) // seen[id] == i+1 when id was met in path i
	var distinct []int32
	for i := range c.paths {
		distinct = distinctChannels(c.path(i), i+1, seen, distinct[:0])
		share := 1 / float64(len(distinct))
		for _, id := range distinct {
			cr.add(id, share, &c.paths[i])
		}
	}
	return c.result(ModelShapley, cr), nil
}

// distinctChannels appends the distinct ids of p to dst, marking them with stamp in seen.
func distinctChannels(p []int32, stamp int, seen []int, dst []int32) []int32 {
	for _, id := range p {
		if seen[id] != stamp {
			seen[id] = stamp
			dst = append(dst, id)
		}
	}
	return dst
}

// orderedShapley is the ordered variant described on shapley.
func orderedShapley(c *corpus) Result {
	type slot struct{ conv, value float64 }
	acc := make(map[string]*slot)
	var order []string
	occurrences := make([]int, len(c.keys))
	for i := range c.paths {
		p, path := c.path(i), &c.paths[i]
		distinct := 0
		for _, id := range p {
			if occurrences[id] == 0 {
				distinct++
			}
			occurrences[id]++
		}
		for j, id := range p {
			share := 1 / float64(distinct*occurrences[id])
			key := c.keys[id] + "@" + strconv.Itoa(j+1)
			s := acc[key]
			if s == nil {
				s = &slot{}
				acc[key] = s
				order = append(order, key)
			}
			s.conv += share * path.Conversions
			s.value += share * path.Value
		}
		for _, id := range p {
			occurrences[id] = 0
		}
	}
	rows := make([]Credit, len(order))
	for i, k := range order {
		rows[i] = Credit{Key: k, Conversions: acc[k].conv, Value: acc[k].value}
	}
	return Result{Model: ModelShapley + "_ordered", Rows: rows}
}
