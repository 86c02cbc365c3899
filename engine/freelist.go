package engine

import "sync"

// freeList keeps scratch values (packing buffers, Winograd scratch, the
// counters of parallel products) for reuse, like sync.Pool, except that
// the garbage collector never empties it. sync.Pool drops what it holds
// within two collections, so the first products after each collection (Go
// forces one every two minutes even when nothing allocates) allocated
// their scratch again: a few megabytes and a few allocations in a training
// step that otherwise allocates nothing. A freeList holds at most as many
// values as were ever in use at once, one or two per goroutine that
// computes.
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
	new   func() *T
}

// get returns a kept value, or a new one.
func (f *freeList[T]) get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.items)
	if n == 0 {
		return f.new()
	}
	x := f.items[n-1]
	f.items[n-1] = nil
	f.items = f.items[:n-1]
	return x
}

// put keeps x for a later get.
func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	f.items = append(f.items, x)
	f.mu.Unlock()
}
