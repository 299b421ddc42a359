package attribution

import (
	"errors"
	"fmt"
	"math"
)

// The first-order Markov model. Its transient states are the channels and a start state; its
// absorbing states are conversion and null. Every path of weight w = conversions + nulls adds w
// to start → first channel and to each step between consecutive touches (self-loops kept), and
// its last channel adds its conversions to → conversion and its nulls to → null. Rows are
// normalised into probabilities.
//
// With A = I − Q (Q the transient-to-transient probabilities), b the one-step conversion
// probabilities and N = A⁻¹ (the fundamental matrix), the probability of conversion from state
// i is x = N b. Removing channel k (sending whatever enters it to null) leaves the conversions
// that never visit k: by the strong Markov property P₋ₖ = x_s − h_sk x_k, where
// h_sk = N_sk / N_kk is the probability of ever reaching k from start s. So the removal effect
// 1 − P₋ₖ / P is exactly h_sk x_k / x_s, with no subtraction of nearly equal numbers. The
// tests check it against one linear solve per removed channel.
//
// N comes from one LU factorisation with partial pivoting and one back-substitution a state:
// O(n³) time and n² memory for n channels, which is instant for channels and sources and
// still fine for a few thousand campaigns.

// chain is I − Q and b over the transient states; channel id i is state i, start is the last.
type chain struct {
	n    int
	a    []float64 // I − Q, row-major n×n
	b    []float64 // one-step probability of conversion from each state
	conv float64   // conversions on paths with at least one touch
	val  float64   // their value
}

// newChain builds the absorbing chain of c.
func newChain(c *corpus) *chain {
	n := len(c.keys) + 1
	ch := &chain{n: n, a: make([]float64, n*n), b: make([]float64, n)}
	out := make([]float64, n)
	for i := range c.paths {
		p, path := c.path(i), &c.paths[i]
		if len(p) == 0 {
			continue
		}
		ch.conv += path.Conversions
		ch.val += path.Value
		w := path.Conversions + path.Nulls
		prev := n - 1
		for _, id := range p {
			ch.a[prev*n+int(id)] += w
			out[prev] += w
			prev = int(id)
		}
		ch.b[prev] += path.Conversions
		out[prev] += w
	}
	for i := 0; i < n; i++ {
		row := ch.a[i*n : (i+1)*n]
		for j := range row {
			if out[i] > 0 {
				row[j] = -row[j] / out[i]
			}
		}
		if out[i] > 0 {
			ch.b[i] /= out[i]
		}
		row[i]++
	}
	return ch
}

// removal returns the probability of conversion from start and the removal effect of each
// channel.
func (ch *chain) removal() (float64, []float64, error) {
	inv, err := invert(ch.a, ch.n)
	if err != nil {
		return 0, nil, err
	}
	n, s := ch.n, ch.n-1
	x := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			x[i] += inv[i*n+j] * ch.b[j]
		}
	}
	effects := make([]float64, n-1)
	if x[s] <= 0 {
		return 0, effects, nil
	}
	for k := range effects {
		reach := inv[s*n+k] / inv[k*n+k]
		effects[k] = reach * x[k] / x[s]
	}
	return x[s], effects, nil
}

// markov credits each channel its removal effect's share of all conversions and value.
func markov(c *corpus, _ Options) (Result, error) {
	ch := newChain(c)
	_, effects, err := ch.removal()
	if err != nil {
		return Result{}, err
	}
	sum := 0.0
	for _, e := range effects {
		sum += e
	}
	rows := make([]Credit, len(c.keys))
	for i, k := range c.keys {
		rows[i] = Credit{Key: k, RemovalEffect: effects[i]}
		if sum > 0 {
			rows[i].Conversions = effects[i] / sum * ch.conv
			rows[i].Value = effects[i] / sum * ch.val
		}
	}
	return Result{Model: ModelMarkov, Rows: rows}, nil
}

// ConversionProbability returns the probability of conversion from start in the first-order
// Markov chain of paths (see markov.go); with the chain built from the paths themselves it
// equals the empirical conversion rate.
func ConversionProbability(paths []Path) (float64, error) {
	c, err := newCorpus(paths)
	if err != nil {
		return 0, err
	}
	p, _, err := newChain(c).removal()
	if err != nil {
		return 0, fmt.Errorf("cannot solve the Markov chain of %d paths: %w", len(paths), err)
	}
	return p, nil
}

var errSingular = errors.New("matrix is singular")

// invert returns the inverse of the n×n row-major matrix a (left untouched).
func invert(a []float64, n int) ([]float64, error) {
	lu := append([]float64(nil), a...)
	perm, err := factor(lu, n)
	if err != nil {
		return nil, err
	}
	inv := make([]float64, n*n)
	col, scratch := make([]float64, n), make([]float64, n)
	for k := 0; k < n; k++ {
		clear(col)
		col[k] = 1
		solveLU(lu, perm, n, col, scratch)
		for i := 0; i < n; i++ {
			inv[i*n+k] = col[i]
		}
	}
	return inv, nil
}

// factor replaces a by its LU factorisation with partial pivoting (PA = LU, unit L below
// the diagonal) and returns P as a permutation of rows.
func factor(a []float64, n int) ([]int, error) {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for k := 0; k < n; k++ {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(a[i*n+k]) > math.Abs(a[p*n+k]) {
				p = i
			}
		}
		if a[p*n+k] == 0 {
			return nil, fmt.Errorf("cannot factor %d×%d matrix at column %d: %w", n, n, k, errSingular)
		}
		if p != k {
			perm[p], perm[k] = perm[k], perm[p]
			for j := 0; j < n; j++ {
				a[p*n+j], a[k*n+j] = a[k*n+j], a[p*n+j]
			}
		}
		for i := k + 1; i < n; i++ {
			f := a[i*n+k] / a[k*n+k]
			a[i*n+k] = f
			if f == 0 {
				continue
			}
			for j := k + 1; j < n; j++ {
				a[i*n+j] -= f * a[k*n+j]
			}
		}
	}
	return perm, nil
}

// solveLU solves A x = rhs in place, given A's factorisation from factor; y is scratch space
// of n numbers.
func solveLU(lu []float64, perm []int, n int, rhs, y []float64) {
	for i := 0; i < n; i++ {
		y[i] = rhs[perm[i]]
	}
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			y[i] -= lu[i*n+j] * y[j]
		}
	}
	for i := n - 1; i >= 0; i-- {
		for j := i + 1; j < n; j++ {
			y[i] -= lu[i*n+j] * y[j]
		}
		y[i] /= lu[i*n+i]
	}
	copy(rhs, y)
}
