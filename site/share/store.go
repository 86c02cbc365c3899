package share

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
)

// ErrNotFound is returned (wrapped) by a Store for an id it does not hold.
var ErrNotFound = errors.New("no such model")

// Store keeps the shared models: each one's file and its Record. Ids given
// to a Store satisfy ValidID. Methods may be called concurrently.
type Store interface {
	// Put stores a new model: file and rec, under rec.Meta.ID, which is
	// not in use. When Put returns an error, nothing of the model is
	// visible (no Record, no file).
	Put(ctx context.Context, rec Record, file []byte) error
	// Record returns the Record of id, or an error wrapping ErrNotFound.
	Record(ctx context.Context, id string) (Record, error)
	// Open returns the file of id, or an error wrapping ErrNotFound. The
	// caller closes it.
	Open(ctx context.Context, id string) (io.ReadCloser, error)
	// List returns the Meta of at most n models, newest (largest Date)
	// first; models of equal Date in increasing order of ID.
	List(ctx context.Context, n int) ([]Meta, error)
	// Delete removes id's Record and file, or returns an error wrapping
	// ErrNotFound.
	Delete(ctx context.Context, id string) error
}

// newestFirst orders Metas as Store.List returns them.
func newestFirst(a, b Meta) int {
	if c := cmp.Compare(b.Date, a.Date); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// MemoryStore is a Store in memory, for tests and for cmd/serve -memory:
// what it holds is gone when the process ends. The zero MemoryStore is
// empty and ready to use.
type MemoryStore struct {
	mu     sync.Mutex
	models map[string]memoryModel
}

type memoryModel struct {
	rec  Record
	file []byte
}

// Put implements Store. It keeps a copy of file.
func (s *MemoryStore) Put(_ context.Context, rec Record, file []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.models == nil {
		s.models = map[string]memoryModel{}
	}
	s.models[rec.Meta.ID] = memoryModel{rec: rec, file: bytes.Clone(file)}
	return nil
}

// Record implements Store.
func (s *MemoryStore) Record(_ context.Context, id string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.models[id]
	if !ok {
		return Record{}, ErrNotFound
	}
	return m.rec, nil
}

// Open implements Store.
func (s *MemoryStore) Open(_ context.Context, id string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.models[id]
	if !ok {
		return nil, ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(m.file)), nil
}

// List implements Store.
func (s *MemoryStore) List(_ context.Context, n int) ([]Meta, error) {
	s.mu.Lock()
	metas := make([]Meta, 0, len(s.models))
	for _, m := range s.models {
		metas = append(metas, m.rec.Meta)
	}
	s.mu.Unlock()
	slices.SortFunc(metas, newestFirst)
	return metas[:min(n, len(metas))], nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.models[id]; !ok {
		return ErrNotFound
	}
	delete(s.models, id)
	return nil
}

// Len is the number of models s holds (for tests).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.models)
}
