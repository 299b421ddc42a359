package attribution

import "math"

// The heuristic models give each path's conversions and value to its touches by a fixed rule.
// A channel that occurs more than once in a path is credited for every occurrence (linear,
// time decay and position based), as ChannelAttribution's heuristic models do.

// firstTouch gives everything to the first touch.
func firstTouch(c *corpus, _ Options) (Result, error) {
	cr := c.newCredits()
	for i := range c.paths {
		if p := c.path(i); len(p) > 0 {
			cr.add(p[0], 1, &c.paths[i])
		}
	}
	return c.result(ModelFirst, cr), nil
}

// lastTouch gives everything to the last touch.
func lastTouch(c *corpus, _ Options) (Result, error) {
	cr := c.newCredits()
	for i := range c.paths {
		if p := c.path(i); len(p) > 0 {
			cr.add(p[len(p)-1], 1, &c.paths[i])
		}
	}
	return c.result(ModelLast, cr), nil
}

// lastNonDirect gives everything to the last touch that is not opt.Direct; a path made only
// of direct touches credits Direct.
func lastNonDirect(c *corpus, opt Options) (Result, error) {
	cr := c.newCredits()
	for i := range c.paths {
		p := c.path(i)
		if len(p) == 0 {
			continue
		}
		pick := p[len(p)-1]
		for j := len(p) - 1; j >= 0; j-- {
			if c.keys[p[j]] != opt.Direct {
				pick = p[j]
				break
			}
		}
		cr.add(pick, 1, &c.paths[i])
	}
	return c.result(ModelLastNonDirect, cr), nil
}

// linear splits everything equally over the touches.
func linear(c *corpus, _ Options) (Result, error) {
	cr := c.newCredits()
	for i := range c.paths {
		p := c.path(i)
		share := 1 / float64(len(p))
		for _, id := range p {
			cr.add(id, share, &c.paths[i])
		}
	}
	return c.result(ModelLinear, cr), nil
}

// timeDecay weighs touch j by 2^(−age/half-life), then normalises the weights of each path to
// one. A path without AgeDays has no time information: its touches weigh the same, so for
// such a path time decay equals linear (inventing ages from positions would pass a guess off
// as data). Callers that know the touch times set AgeDays.
func timeDecay(c *corpus, opt Options) (Result, error) {
	cr := c.newCredits()
	var w []float64
	for i := range c.paths {
		p, ages := c.path(i), c.paths[i].AgeDays
		if len(p) == 0 {
			continue
		}
		w = w[:0]
		sum := 0.0
		for j := range p {
			x := 1.0
			if ages != nil {
				x = math.Exp2(-ages[j] / opt.HalfLifeDays)
			}
			w = append(w, x)
			sum += x
		}
		if sum == 0 { // every touch so old that its weight underflows: fall back to equal weights
			for j := range w {
				w[j] = 1
			}
			sum = float64(len(w))
		}
		for j, id := range p {
			cr.add(id, w[j]/sum, &c.paths[i])
		}
	}
	return c.result(ModelTimeDecay, cr), nil
}

// positionBased gives opt.FirstShare to the first touch, opt.LastShare to the last and spreads
// the rest evenly over the touches between them. Two touches split in the ratio of the two
// shares (50/50 by default); one touch gets everything.
func positionBased(c *corpus, opt Options) (Result, error) {
	cr := c.newCredits()
	for i := range c.paths {
		p, path := c.path(i), &c.paths[i]
		switch n := len(p); n {
		case 0:
		case 1:
			cr.add(p[0], 1, path)
		case 2:
			sum := opt.FirstShare + opt.LastShare
			cr.add(p[0], opt.FirstShare/sum, path)
			cr.add(p[1], opt.LastShare/sum, path)
		default:
			cr.add(p[0], opt.FirstShare, path)
			cr.add(p[n-1], opt.LastShare, path)
			mid := (1 - opt.FirstShare - opt.LastShare) / float64(n-2)
			for _, id := range p[1 : n-1] {
				cr.add(id, mid, path)
			}
		}
	}
	return c.result(ModelPosition, cr), nil
}
