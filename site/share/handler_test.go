//go:build !js

// The server runs natively (cmd/serve) or on Workers (cmd/edge, whose test
// runs this scenario under wrangler dev); a browser tab has neither
// listening sockets nor a real file system.

package share_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
	"github.com/cyclegan-wasm/cyclegan/site"
	"github.com/cyclegan-wasm/cyclegan/site/share"
	"github.com/cyclegan-wasm/cyclegan/site/share/sharetest"
)

// testMaxUpload is the upload cap of the tests: small, so the oversize
// uploads are cheap, and far above the scenario's generators (some 60 KB).
const testMaxUpload = 256 << 10

var page = fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>test</title>")}}

// serve starts the site with the API over store, as cmd/serve does.
func serve(t *testing.T, store share.Store, cfg share.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(site.HandlerWithAPI(page, share.NewHandler(store, cfg)))
	t.Cleanup(srv.Close)
	return srv
}

func TestScenarioMemory(t *testing.T) {
	store := &share.MemoryStore{}
	srv := serve(t, store, share.Config{MaxUpload: testMaxUpload})
	sharetest.Run(t, sharetest.Server{URL: srv.URL, Client: srv.Client(), MaxUpload: testMaxUpload})
	if n := store.Len(); n != 0 {
		t.Errorf("the store holds %d models after the scenario, want 0 (a rejected upload was stored?)", n)
	}
}

func TestScenarioDir(t *testing.T) {
	dir := t.TempDir()
	store, err := share.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, store, share.Config{MaxUpload: testMaxUpload, MaxHeader: 4096})
	sharetest.Run(t, sharetest.Server{URL: srv.URL, Client: srv.Client(), MaxUpload: testMaxUpload, MaxHeader: 4096})
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the store's directory holds %d files after the scenario, want none", len(left))
	}
}

// TestNoAPI: without a store the site has no /api/models, which is how the
// page tells that it cannot share.
func TestNoAPI(t *testing.T) {
	srv := httptest.NewServer(site.Handler(page))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + share.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s without an API: status %d, want 404", share.Prefix, resp.StatusCode)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestOversizeReadsAtMostCap: a body of unknown length is read no further
// than cap+1 bytes; one whose Content-Length is over the cap is not read.
func TestOversizeReadsAtMostCap(t *testing.T) {
	store := &share.MemoryStore{}
	h := share.NewHandler(store, share.Config{MaxUpload: 1000})
	for _, tt := range []struct {
		name     string
		length   int64
		maxRead  int64
		wantCode int
	}{
		{"unknown length", -1, 1001, http.StatusRequestEntityTooLarge},
		{"declared length", 1 << 20, 0, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingReader{r: bytes.NewReader(make([]byte, 1<<20))}
			req := httptest.NewRequest(http.MethodPost, share.Prefix, body)
			req.ContentLength = tt.length
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if n := body.n.Load(); n > tt.maxRead {
				t.Errorf("read %d bytes of the body, at most %d allowed", n, tt.maxRead)
			}
			if !strings.Contains(rec.Body.String(), "limit of 1000 bytes") {
				t.Errorf("reason %s does not give the limit", rec.Body)
			}
		})
	}
	if store.Len() != 0 {
		t.Errorf("store holds %d models", store.Len())
	}
}

// TestUploadAtCap: a file of exactly the cap is accepted.
func TestUploadAtCap(t *testing.T) {
	file := sharetest.Generator(t, 4, 1, 3, nil)
	store := &share.MemoryStore{}
	h := share.NewHandler(store, share.Config{MaxUpload: int64(len(file))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, share.Prefix, bytes.NewReader(file)))
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	big := append(bytes.Clone(file), 0)
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, share.Prefix, bytes.NewReader(big)))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("one byte over: status %d: %s", rec.Code, rec.Body)
	}
}

// TestListNewestFirst: the list is ordered by date, newest first, and
// holds at most ListLimit models.
func TestListNewestFirst(t *testing.T) {
	for _, name := range []string{"memory", "dir"} {
		t.Run(name, func(t *testing.T) {
			var store share.Store = &share.MemoryStore{}
			if name == "dir" {
				s, err := share.NewDirStore(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				store = s
			}
			clock := time.UnixMilli(1_700_000_000_000)
			h := share.NewHandler(store, share.Config{Now: func() time.Time { return clock }})
			file := sharetest.Generator(t, 2, 0, 4, nil)
			n := share.ListLimit + 5
			for i := range n {
				// Every third upload shares the date of the one before.
				if i%3 != 2 {
					clock = clock.Add(time.Second)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, fmt.Sprintf("%s?name=m%d", share.Prefix, i), bytes.NewReader(file)))
				if rec.Code != http.StatusCreated {
					t.Fatalf("upload %d: %d %s", i, rec.Code, rec.Body)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, share.Prefix, nil))
			var l struct{ Models []share.Meta }
			if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Models) != share.ListLimit {
				t.Fatalf("%d models listed, want %d", len(l.Models), share.ListLimit)
			}
			if l.Models[0].Date != clock.UnixMilli() {
				t.Errorf("first listed is of %d, want the newest, %d", l.Models[0].Date, clock.UnixMilli())
			}
			for i := 1; i < len(l.Models); i++ {
				p, m := l.Models[i-1], l.Models[i]
				if p.Date < m.Date || p.Date == m.Date && p.ID > m.ID {
					t.Errorf("models %d and %d out of order: %+v, %+v", i-1, i, p, m)
				}
			}
		})
	}
}

// TestTokenStoredHashed: the store never sees the delete token.
func TestTokenStoredHashed(t *testing.T) {
	store := &share.MemoryStore{}
	h := share.NewHandler(store, share.Config{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, share.Prefix, bytes.NewReader(sharetest.Generator(t, 2, 1, 5, nil))))
	var up struct{ ID, DeleteToken string }
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil {
		t.Fatal(err)
	}
	r, err := store.Record(context.Background(), up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.TokenHash == "" || strings.Contains(r.TokenHash, up.DeleteToken) {
		t.Errorf("record keeps %q for token %q", r.TokenHash, up.DeleteToken)
	}
	if len(up.DeleteToken) < 43 {
		t.Errorf("token %q shorter than 256 bits of base64", up.DeleteToken)
	}
}

// failingStore fails every call.
type failingStore struct{}

var errDisk = errors.New("disk on fire")

func (failingStore) Put(context.Context, share.Record, []byte) error { return errDisk }
func (failingStore) Record(context.Context, string) (share.Record, error) {
	return share.Record{}, errDisk
}
func (failingStore) Open(context.Context, string) (io.ReadCloser, error) { return nil, errDisk }
func (failingStore) List(context.Context, int) ([]share.Meta, error)     { return nil, errDisk }
func (failingStore) Delete(context.Context, string) error                { return errDisk }

// TestStorageError: a failing store answers 500 "storage error", logged,
// without its details.
func TestStorageError(t *testing.T) {
	var logged atomic.Int32
	h := share.NewHandler(failingStore{}, share.Config{Logf: func(string, ...any) { logged.Add(1) }})
	file := sharetest.Generator(t, 2, 1, 6, nil)
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, share.Prefix, nil),
		httptest.NewRequest(http.MethodPost, share.Prefix, bytes.NewReader(file)),
		httptest.NewRequest(http.MethodGet, share.Prefix+"/AAAAAAAAAAAAAAAAAAAAAA", nil),
		httptest.NewRequest(http.MethodDelete, share.Prefix+"/AAAAAAAAAAAAAAAAAAAAAA", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "fire") {
			t.Errorf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body)
		}
	}
	if logged.Load() != 4 {
		t.Errorf("%d errors logged, want 4", logged.Load())
	}
}

// TestDirStoreRestart: a new DirStore over the same directory (a
// restarted server) serves the models of the old one, and only whole
// ones.
func TestDirStoreRestart(t *testing.T) {
	dir := t.TempDir()
	s1, err := share.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	h1 := share.NewHandler(s1, share.Config{})
	file := sharetest.Generator(t, 2, 1, 8, map[string]string{"iteration": "9"})
	rec := httptest.NewRecorder()
	h1.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, share.Prefix+"?name=kept", bytes.NewReader(file)))
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var up struct {
		ID    string
		Model share.Meta
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil {
		t.Fatal(err)
	}
	// What a crash leaves: a stray file with no record, and a temporary
	// file of an unfinished write.
	stray := "BBBBBBBBBBBBBBBBBBBBBB"
	for name, data := range map[string][]byte{
		stray + ".safetensors":           file,
		"." + stray + ".json.tmp-123456": []byte(`{"meta":`),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s2, err := share.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list, err := s2.List(ctx, share.ListLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0] != up.Model {
		t.Fatalf("after restart the list is %+v, want [%+v]", list, up.Model)
	}
	f, err := s2.Open(ctx, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("after restart the file is %d bytes (%v), want the %d uploaded", len(got), err, len(file))
	}
	for _, id := range []string{stray, "../../etc/passwd", "x"} {
		if _, err := s2.Open(ctx, id); !errors.Is(err, share.ErrNotFound) {
			t.Errorf("Open(%q): %v, want ErrNotFound", id, err)
		}
	}
	if err := s2.Delete(ctx, up.ID); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{up.ID + ".json", up.ID + ".safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Delete: %v", name, err)
		}
	}
	if err := s2.Delete(ctx, up.ID); !errors.Is(err, share.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

// TestDirStoreAtomic: the store writes through a temporary file renamed
// into place, so a reader never sees part of a record or a file. Put
// into a directory that cannot be written leaves nothing behind.
func TestDirStoreAtomic(t *testing.T) {
	dir := t.TempDir()
	s, err := share.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := share.Record{Meta: share.Meta{ID: "CCCCCCCCCCCCCCCCCCCCCC", Name: "x", Size: 3}, TokenHash: "00"}
	// A directory where the record should go: the file is written, the
	// record cannot be, and Put must take the file back.
	if err := os.Mkdir(filepath.Join(dir, rec.Meta.ID+".json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, rec, []byte("abc")); err == nil {
		t.Fatal("Put over a directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, rec.Meta.ID+".safetensors")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed Put left its file: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("failed Put left a temporary file %s", e.Name())
		}
	}
	os.Remove(filepath.Join(dir, rec.Meta.ID+".json"))
	if err := s.Put(ctx, rec, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Record(ctx, rec.Meta.ID)
	if err != nil || got != rec {
		t.Errorf("Record = %+v, %v; want %+v", got, err, rec)
	}
}

// Uploads are validated with cyclegan.CheckGenerator, which must refuse
// every file the command line's reader (cyclegan.UnmarshalGenerator)
// refuses, with an error wrapping the same sentinels, and accept the
// others with the same ngf and blocks: the scenario's malformed uploads
// and generators of several sizes.
func TestCheckGeneratorAsUnmarshal(t *testing.T) {
	files := sharetest.Malformed(t, 0)
	for i, c := range [][2]int{{1, 0}, {4, 2}, {8, 1}, {16, 3}} {
		var meta map[string]string
		if i%2 == 1 {
			meta = map[string]string{"crop_size": "64", "iteration": "10"}
		}
		files[fmt.Sprintf("ngf %d, %d blocks", c[0], c[1])] = sharetest.Generator(t, c[0], c[1], uint64(i), meta)
	}
	sentinels := []error{
		cyclegan.ErrNotCheckpoint, cyclegan.ErrVersion, cyclegan.ErrMissingKey, cyclegan.ErrUnexpectedKey,
		cyclegan.ErrShape, cyclegan.ErrDType, cyclegan.ErrNotGenerator,
		safetensors.ErrTruncated, safetensors.ErrHeaderTooLarge, safetensors.ErrMalformedHeader,
		safetensors.ErrDuplicate, safetensors.ErrOffsets, safetensors.ErrDType, safetensors.ErrShape,
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			info, checkErr := cyclegan.CheckGenerator(b, "")
			g, err := cyclegan.UnmarshalGenerator(b, "")
			if (checkErr == nil) != (err == nil) {
				t.Fatalf("CheckGenerator: %v; UnmarshalGenerator: %v", checkErr, err)
			}
			if err == nil {
				if !strings.HasPrefix(name, "ngf") {
					t.Errorf("a malformed upload is a generator")
				}
				if info.NGF != g.NGF || info.Blocks != g.Blocks {
					t.Errorf("CheckGenerator: ngf %d, %d blocks; UnmarshalGenerator: %d, %d", info.NGF, info.Blocks, g.NGF, g.Blocks)
				}
				return
			}
			if strings.HasPrefix(name, "ngf") {
				t.Fatalf("a generator refused: %v", err)
			}
			for _, s := range sentinels {
				if errors.Is(checkErr, s) != errors.Is(err, s) {
					t.Errorf("CheckGenerator's %q and UnmarshalGenerator's %q differ on %q", checkErr, err, s)
				}
			}
		})
	}
}
