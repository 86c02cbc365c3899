package share

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// DirStore is a Store in a directory, for cmd/serve: model id's file is
// DIR/id.safetensors and its Record DIR/id.json. Both are written
// atomically (a synced temporary file renamed into place), the file
// first, so a model exists exactly when its .json does: a crash between
// the two leaves a stray .safetensors that nothing lists or serves. A new
// DirStore over the same directory (a restarted server) sees every model.
type DirStore struct {
	dir string
}

// NewDirStore returns a DirStore over dir, creating the directory if it
// does not exist.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

// Dir is the directory s keeps its models in.
func (s *DirStore) Dir() string { return s.dir }

func (s *DirStore) filePath(id string) string   { return filepath.Join(s.dir, id+".safetensors") }
func (s *DirStore) recordPath(id string) string { return filepath.Join(s.dir, id+".json") }

// Put implements Store.
func (s *DirStore) Put(_ context.Context, rec Record, file []byte) error {
	id := rec.Meta.ID
	if !ValidID(id) {
		return fmt.Errorf("model store: put: invalid id %q", id)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("model store: put %s: %w", id, err)
	}
	if err := cyclegan.WriteFileAtomic(s.filePath(id), file); err != nil {
		return fmt.Errorf("model store: %w", err)
	}
	if err := cyclegan.WriteFileAtomic(s.recordPath(id), b); err != nil {
		os.Remove(s.filePath(id))
		return fmt.Errorf("model store: %w", err)
	}
	return nil
}

// Record implements Store.
func (s *DirStore) Record(_ context.Context, id string) (Record, error) {
	if !ValidID(id) {
		return Record{}, fmt.Errorf("model store: %q: %w", id, ErrNotFound)
	}
	return s.readRecord(s.recordPath(id))
}

func (s *DirStore) readRecord(path string) (Record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, fmt.Errorf("model store: %s: %w", filepath.Base(path), ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("model store: %w", err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, fmt.Errorf("model store: %s: %w", path, err)
	}
	return rec, nil
}

// Open implements Store.
func (s *DirStore) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	if _, err := s.Record(ctx, id); err != nil {
		return nil, err
	}
	f, err := os.Open(s.filePath(id))
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted since the Record was read.
		return nil, fmt.Errorf("model store: %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return f, nil
}

// List implements Store. It reads every Record in the directory.
func (s *DirStore) List(_ context.Context, n int) ([]Meta, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	var metas []Meta
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !ValidID(id) || !e.Type().IsRegular() {
			continue // temporary files (".id.json.tmp-…") among them
		}
		rec, err := s.readRecord(filepath.Join(s.dir, e.Name()))
		if errors.Is(err, ErrNotFound) {
			continue // deleted since ReadDir
		}
		if err != nil {
			return nil, err
		}
		metas = append(metas, rec.Meta)
	}
	slices.SortFunc(metas, newestFirst)
	return metas[:min(n, len(metas))], nil
}

// Delete implements Store: the Record goes first, so the model is gone
// for every reader at once.
func (s *DirStore) Delete(_ context.Context, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("model store: %q: %w", id, ErrNotFound)
	}
	err := os.Remove(s.recordPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("model store: %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("model store: %w", err)
	}
	if err := os.Remove(s.filePath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("model store: %w", err)
	}
	return nil
}
