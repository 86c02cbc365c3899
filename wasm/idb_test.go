//go:build js && wasm

package wasm

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"syscall/js"
	"testing"
)

// freshStore opens an empty database of its own for one test.
func freshStore(t *testing.T, name string) *store {
	t.Helper()
	deleteDB(t, name)
	s, err := openStoreNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close(); deleteDB(t, name) })
	return s
}

func deleteDB(t *testing.T, name string) {
	t.Helper()
	req := js.Global().Get("indexedDB").Call("deleteDatabase", name)
	if _, err := awaitRequest(req); err != nil {
		t.Fatalf("deleting database %s: %v", name, err)
	}
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestStoreRoundTrip(t *testing.T) {
	s := freshStore(t, "cyclegan-test-roundtrip")
	big := randomBytes(5<<20+3, 1)
	info := ModelInfo{ID: "autosave", Name: "run", Iteration: 120, Total: 400, Date: 1000, Data: "demo"}
	if err := s.save(info, big); err != nil {
		t.Fatal(err)
	}
	got, b, err := s.load("autosave")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, big) {
		t.Fatalf("loaded %d bytes, not the %d saved", len(b), len(big))
	}
	info.Size = len(big)
	if got != info {
		t.Fatalf("loaded info %+v, want %+v", got, info)
	}

	// More records; list is newest first, meta only.
	if err := s.save(ModelInfo{ID: "old", Name: "old", Date: 500, Data: "files"}, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.save(ModelInfo{ID: "new", Name: "new", Date: 2000, Data: "files"}, []byte{4}); err != nil {
		t.Fatal(err)
	}
	list, err := s.list()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "new,autosave,old" {
		t.Fatalf("list order %v, want new, autosave, old", ids)
	}
	if list[2].Size != 3 {
		t.Fatalf("size of old %d, want 3", list[2].Size)
	}

	if err := s.delete("autosave"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.load("autosave"); err == nil || !strings.Contains(err.Error(), "no saved model") {
		t.Fatalf("load after delete: %v", err)
	}
	if list, _ = s.list(); len(list) != 2 {
		t.Fatalf("%d models after delete, want 2", len(list))
	}
	if err := s.delete("never-saved"); err != nil {
		t.Fatalf("deleting a missing id: %v", err)
	}
	usage, quota := s.estimate()
	t.Logf("storage: %d used of %d", usage, quota)
	if quota <= 0 {
		t.Errorf("estimate gave quota %d", quota)
	}
}

func TestStoreAbortedSaveKeepsPrevious(t *testing.T) {
	s := freshStore(t, "cyclegan-test-abort")
	first := randomBytes(1<<20, 2)
	info := ModelInfo{ID: "autosave", Name: "first", Iteration: 10, Date: 1, Data: "demo"}
	if err := s.save(info, first); err != nil {
		t.Fatal(err)
	}
	s.abortAfterMeta = true
	err := s.save(ModelInfo{ID: "autosave", Name: "second", Iteration: 20, Date: 2, Data: "demo"}, randomBytes(2<<20, 3))
	s.abortAfterMeta = false
	if err == nil {
		t.Fatal("aborted save reported success")
	}
	t.Logf("aborted save: %v", err)
	got, b, err := s.load("autosave")
	if err != nil {
		t.Fatal(err)
	}
	info.Size = len(first)
	if got != info || !bytes.Equal(b, first) {
		t.Fatalf("after an aborted save: %+v and %d bytes, want the first record %+v, %d bytes", got, len(b), info, len(first))
	}
	// A fresh id whose save aborted leaves nothing.
	s.abortAfterMeta = true
	s.save(ModelInfo{ID: "ghost", Date: 3}, []byte{1})
	s.abortAfterMeta = false
	if list, _ := s.list(); len(list) != 1 {
		t.Fatalf("aborted save of a new id left %d records", len(list))
	}
}

func TestStoreReopen(t *testing.T) {
	const name = "cyclegan-test-reopen"
	s := freshStore(t, name)
	data := randomBytes(3<<20, 4)
	if err := s.save(ModelInfo{ID: "autosave", Name: "x", Iteration: 7, Date: 9}, data); err != nil {
		t.Fatal(err)
	}
	s.close() // as a reload does
	s2, err := openStoreNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.close()
	info, b, err := s2.load("autosave")
	if err != nil {
		t.Fatal(err)
	}
	if info.Iteration != 7 || !bytes.Equal(b, data) {
		t.Fatalf("reopened store gave iteration %d and %d bytes", info.Iteration, len(b))
	}
}

func TestJSUtil(t *testing.T) {
	b := []byte{0, 1, 2, 250, 255}
	ab := bytesToJS(b)
	if !ab.InstanceOf(js.Global().Get("ArrayBuffer")) || ab.Get("byteLength").Int() != len(b) {
		t.Fatal("bytesToJS did not give an ArrayBuffer of the length")
	}
	if got := bytesFromJS(ab); !bytes.Equal(got, b) {
		t.Fatalf("ArrayBuffer round trip %v", got)
	}
	view := js.Global().Get("Uint8Array").New(ab, 1, 3)
	if got := bytesFromJS(view); !bytes.Equal(got, b[1:4]) {
		t.Fatalf("view gave %v", got)
	}
	dv := js.Global().Get("DataView").New(ab, 2, 2)
	if got := bytesFromJS(dv); !bytes.Equal(got, b[2:4]) {
		t.Fatalf("DataView gave %v", got)
	}
	if bytesFromJS(js.ValueOf("x")) != nil {
		t.Fatal("a string gave bytes")
	}
	p := js.Global().Get("Promise").Call("resolve", 42)
	if v, err := await(p); err != nil || v.Int() != 42 {
		t.Fatalf("await resolved: %v, %v", v, err)
	}
	rej := js.Global().Get("Promise").Call("reject", js.Global().Get("TypeError").New("boom"))
	if _, err := await(rej); err == nil || err.Error() != "TypeError: boom" {
		t.Fatalf("await rejected: %v", err)
	}
}
