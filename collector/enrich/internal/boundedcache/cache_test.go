package boundedcache

import (
	"fmt"
	"sync"
	"testing"
)

func TestCacheBound(t *testing.T) {
	c := New[int](100)
	for i := 0; i < 10000; i++ {
		c.Put(fmt.Sprint(i), i)
		if n := c.Len(); n > 100 {
			t.Fatalf("after %d puts the cache holds %d entries, want at most 100", i+1, n)
		}
	}
	if v, ok := c.Get([]byte("9999")); !ok || v != 9999 {
		t.Fatalf("Get(9999) = %d, %v; want 9999, true", v, ok)
	}
	if _, ok := c.Get([]byte("0")); ok {
		t.Fatalf("Get(0) found an entry that must have aged out")
	}
}

func TestCacheKeepsEntriesInUse(t *testing.T) {
	c := New[string](10)
	c.Put("hot", "v")
	for i := 0; i < 1000; i++ {
		c.Put(fmt.Sprint(i), "x")
		if _, ok := c.Get([]byte("hot")); !ok {
			t.Fatalf("the entry read after every put was evicted after %d puts", i+1)
		}
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := New[int](64)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := fmt.Sprint((i * 7) % 200)
				if v, ok := c.Get([]byte(k)); ok && fmt.Sprint(v) != k {
					t.Errorf("Get(%s) = %d", k, v)
					return
				}
				c.Put(k, (i*7)%200)
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 64 {
		t.Fatalf("cache holds %d entries, want at most 64", n)
	}
}

func TestCacheGetDoesNotAllocate(t *testing.T) {
	c := New[int](10)
	c.Put("key", 1)
	key := []byte("key")
	if n := testing.AllocsPerRun(100, func() { c.Get(key) }); n != 0 {
		t.Fatalf("Get allocates %v times per hit, want 0", n)
	}
}
