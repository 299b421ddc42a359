// Package boundedcache is a small string-keyed cache with a hard bound on its entries, safe
// for concurrent use, for enrichment steps that memoise a costly parse of a repeated input
// (a user agent string). It owns nothing else: no expiry, no metrics.
//
// It keeps two generations of at most half the bound each. Entries go into the current
// generation; when that is full it becomes the previous one and the old previous one is
// dropped. A hit in the previous generation moves the entry forward, so entries in use
// survive and the rest age out, like an LRU without a list to maintain.
package boundedcache

import "sync"

// Cache maps strings to values of type V. The zero value is not usable; call New.
type Cache[V any] struct {
	mu        sync.Mutex
	half      int
	cur, prev map[string]V
}

// New returns a cache that holds at most size entries (at least 2).
func New[V any](size int) *Cache[V] {
	half := max(size/2, 1)
	return &Cache[V]{half: half, cur: make(map[string]V, half), prev: map[string]V{}}
}

// Get returns the value cached for key. It does not allocate on a hit in the current
// generation.
func (c *Cache[V]) Get(key []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[string(key)]; ok {
		return v, true
	}
	v, ok := c.prev[string(key)]
	if ok {
		c.putLocked(string(key), v)
	}
	return v, ok
}

// Put stores v under key.
func (c *Cache[V]) Put(key string, v V) {
	c.mu.Lock()
	c.putLocked(key, v)
	c.mu.Unlock()
}

func (c *Cache[V]) putLocked(key string, v V) {
	if len(c.cur) >= c.half {
		c.prev, c.cur = c.cur, make(map[string]V, c.half)
	}
	c.cur[key] = v
}

// Len returns the number of entries held, counting an entry present in both generations
// twice.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
