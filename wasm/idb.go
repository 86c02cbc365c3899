//go:build js && wasm

package wasm

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"syscall/js"
)

// The checkpoint store: IndexedDB database "cyclegan" with two object
// stores keyed by the model id (out-of-line keys):
//
//	meta   the ModelInfo, as a plain JS object (listing reads only these)
//	blobs  the checkpoint's safetensors bytes, as an ArrayBuffer
//
// A save writes both in ONE readwrite transaction: if it aborts (quota,
// tab closed, …) IndexedDB rolls both back and the previous record of that
// id stays whole.

const (
	dbName     = "cyclegan"
	dbVersion  = 1
	metaStore  = "meta"
	blobsStore = "blobs"
)

// store is an open IndexedDB database of checkpoints.
type store struct {
	db   js.Value
	name string

	// Test hooks. abortAfterMeta makes save abort its transaction after
	// the meta put and before the blob put; failSave makes save fail with
	// that error (as the browser's) without writing.
	abortAfterMeta bool
	failSave       error
}

// openStore opens (creating or upgrading as needed) the "cyclegan" database.
func openStore() (*store, error) { return openStoreNamed(dbName) }

// openStoreNamed opens the checkpoint database called name (tests use their
// own names).
func openStoreNamed(name string) (*store, error) {
	idb := js.Global().Get("indexedDB")
	if idb.IsUndefined() || idb.IsNull() {
		return nil, errors.New("this browser offers no IndexedDB storage (private window?)")
	}
	var req js.Value
	if err := catchJS(func() { req = idb.Call("open", name, dbVersion) }); err != nil {
		return nil, fmt.Errorf("opening the model store: %w", err)
	}
	upgrade := js.FuncOf(func(this js.Value, args []js.Value) any {
		db := req.Get("result")
		names := db.Get("objectStoreNames")
		for _, s := range []string{metaStore, blobsStore} {
			if !names.Call("contains", s).Bool() {
				db.Call("createObjectStore", s)
			}
		}
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	blocked := js.FuncOf(func(this js.Value, args []js.Value) any { return nil })
	defer blocked.Release()
	req.Set("onblocked", blocked) // another tab holds an old version: wait for it
	db, err := awaitRequest(req)
	if err != nil {
		return nil, fmt.Errorf("opening the model store: %w", err)
	}
	s := &store{db: db, name: name}
	// Let a newer version elsewhere (another tab) upgrade: close ours.
	var onVersionChange js.Func
	onVersionChange = js.FuncOf(func(this js.Value, args []js.Value) any {
		db.Call("close")
		onVersionChange.Release()
		return nil
	})
	db.Set("onversionchange", onVersionChange)
	return s, nil
}

// close closes the database connection.
func (s *store) close() {
	if s != nil && !s.db.IsUndefined() {
		s.db.Call("close")
	}
}

// save writes info and ckpt under info.ID, replacing any previous record of
// that id, in one transaction. info.Size is set to len(ckpt). A full disk
// gives an error saying so, with the storage used.
func (s *store) save(info ModelInfo, ckpt []byte) error {
	if info.ID == "" {
		return errors.New("saving a model: no id")
	}
	info.Size = len(ckpt)
	if s.failSave != nil {
		return s.saveError(s.failSave, len(ckpt))
	}
	meta, err := toJSObject(info)
	if err != nil {
		return err
	}
	buf := bytesToJS(ckpt)
	var tx js.Value
	err = catchJS(func() {
		tx = s.db.Call("transaction", js.ValueOf([]any{metaStore, blobsStore}), "readwrite")
		tx.Call("objectStore", metaStore).Call("put", meta, info.ID)
		if s.abortAfterMeta {
			tx.Call("abort")
			return
		}
		tx.Call("objectStore", blobsStore).Call("put", buf, info.ID)
	})
	if err != nil {
		return s.saveError(err, len(ckpt))
	}
	if err := awaitTx(tx); err != nil {
		return s.saveError(err, len(ckpt))
	}
	return nil
}

// saveError words a failed save; a quota error says storage is full.
func (s *store) saveError(err error, size int) error {
	if isQuotaError(err) {
		usage, quota := s.estimate()
		return &quotaError{usage: usage, quota: quota, size: size}
	}
	return fmt.Errorf("saving the checkpoint (%s) failed: %w", formatBytes(int64(size)), err)
}

// quotaError is a save refused because browser storage is full.
type quotaError struct {
	usage, quota int64
	size         int
}

func (e *quotaError) Error() string {
	msg := fmt.Sprintf("browser storage is full: the checkpoint (%s) could not be saved", formatBytes(int64(e.size)))
	if e.quota > 0 {
		msg += fmt.Sprintf("; %s used of %s allowed", formatBytes(e.usage), formatBytes(e.quota))
	} else if e.usage > 0 {
		msg += fmt.Sprintf("; %s used", formatBytes(e.usage))
	}
	return msg + ". Delete saved models or export this one to a file"
}

func isQuotaError(err error) bool {
	switch jsErrorName(err) {
	case "QuotaExceededError", "NS_ERROR_DOM_QUOTA_REACHED":
		return true
	}
	return false
}

// load returns the record of id. A missing id is an error naming it.
func (s *store) load(id string) (ModelInfo, []byte, error) {
	var tx, metaReq, blobReq js.Value
	err := catchJS(func() {
		tx = s.db.Call("transaction", js.ValueOf([]any{metaStore, blobsStore}), "readonly")
		metaReq = tx.Call("objectStore", metaStore).Call("get", id)
		blobReq = tx.Call("objectStore", blobsStore).Call("get", id)
	})
	if err == nil {
		err = awaitTx(tx)
	}
	if err != nil {
		return ModelInfo{}, nil, fmt.Errorf("reading saved model %q: %w", id, err)
	}
	m, b := metaReq.Get("result"), blobReq.Get("result")
	if m.IsUndefined() || b.IsUndefined() {
		return ModelInfo{}, nil, fmt.Errorf("no saved model %q", id)
	}
	var info ModelInfo
	if err := fromJSObject(m, &info); err != nil {
		return ModelInfo{}, nil, fmt.Errorf("saved model %q: %w", id, err)
	}
	data := bytesFromJS(b)
	if data == nil {
		return ModelInfo{}, nil, fmt.Errorf("saved model %q has no checkpoint bytes", id)
	}
	return info, data, nil
}

// list returns every saved model's info, newest first.
func (s *store) list() ([]ModelInfo, error) {
	var tx, req js.Value
	err := catchJS(func() {
		tx = s.db.Call("transaction", metaStore, "readonly")
		req = tx.Call("objectStore", metaStore).Call("getAll")
	})
	if err == nil {
		err = awaitTx(tx)
	}
	if err != nil {
		return nil, fmt.Errorf("listing saved models: %w", err)
	}
	var infos []ModelInfo
	if err := fromJSObject(req.Get("result"), &infos); err != nil {
		return nil, fmt.Errorf("listing saved models: %w", err)
	}
	slices.SortStableFunc(infos, func(a, b ModelInfo) int {
		switch {
		case a.Date > b.Date:
			return -1
		case a.Date < b.Date:
			return 1
		}
		return 0
	})
	if infos == nil {
		infos = []ModelInfo{}
	}
	return infos, nil
}

// delete removes the record of id (a missing id is not an error).
func (s *store) delete(id string) error {
	var tx js.Value
	err := catchJS(func() {
		tx = s.db.Call("transaction", js.ValueOf([]any{metaStore, blobsStore}), "readwrite")
		tx.Call("objectStore", metaStore).Call("delete", id)
		tx.Call("objectStore", blobsStore).Call("delete", id)
	})
	if err == nil {
		err = awaitTx(tx)
	}
	if err != nil {
		return fmt.Errorf("deleting saved model %q: %w", id, err)
	}
	return nil
}

// estimate is navigator.storage.estimate(): bytes used and quota for this
// origin (0, 0 when the browser does not say).
func (s *store) estimate() (usage, quota int64) {
	st := js.Global().Get("navigator").Get("storage")
	if st.IsUndefined() || st.Get("estimate").IsUndefined() {
		return 0, 0
	}
	var p js.Value
	if catchJS(func() { p = st.Call("estimate") }) != nil {
		return 0, 0
	}
	v, err := await(p)
	if err != nil || v.Type() != js.TypeObject {
		return 0, 0
	}
	num := func(k string) int64 {
		if x := v.Get(k); x.Type() == js.TypeNumber {
			return int64(x.Float())
		}
		return 0
	}
	return num("usage"), num("quota")
}

// awaitRequest waits for an IDBRequest's success (returning its result) or
// error.
func awaitRequest(req js.Value) (js.Value, error) {
	ch := make(chan error, 1)
	onOK := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- nil
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- jsError(req.Get("error"))
		if len(args) > 0 {
			args[0].Call("preventDefault")
		}
		return nil
	})
	req.Set("onsuccess", onOK)
	req.Set("onerror", onErr)
	err := <-ch
	req.Set("onsuccess", js.Null())
	req.Set("onerror", js.Null())
	onOK.Release()
	onErr.Release()
	if err != nil {
		return js.Undefined(), err
	}
	return req.Get("result"), nil
}

// awaitTx waits for a transaction to complete; an abort or error is
// returned with the transaction's error (an explicit abort() without one is
// an AbortError).
func awaitTx(tx js.Value) error {
	ch := make(chan error, 1)
	done := func(err error) {
		select {
		case ch <- err:
		default:
		}
	}
	onComplete := js.FuncOf(func(this js.Value, args []js.Value) any {
		done(nil)
		return nil
	})
	onAbort := js.FuncOf(func(this js.Value, args []js.Value) any {
		e := tx.Get("error")
		if e.IsNull() || e.IsUndefined() {
			done(&jsErr{name: "AbortError", msg: "AbortError: the transaction was aborted"})
		} else {
			done(jsError(e))
		}
		return nil
	})
	tx.Set("oncomplete", onComplete)
	tx.Set("onabort", onAbort)
	// An error event on a request bubbles to the transaction, then the
	// transaction aborts: onabort reports it.
	err := <-ch
	tx.Set("oncomplete", js.Null())
	tx.Set("onabort", js.Null())
	onComplete.Release()
	onAbort.Release()
	return err
}

// catchJS runs f, turning a JS exception thrown inside it (a panic of
// js.Error) into an error.
func catchJS(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = jsError(je.Value)
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

// toJSObject converts v to a plain JS object through JSON.
func toJSObject(v any) (js.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return js.Undefined(), err
	}
	return js.Global().Get("JSON").Call("parse", string(b)), nil
}

// fromJSObject converts a plain JS value into v through JSON.
func fromJSObject(o js.Value, v any) error {
	if o.IsUndefined() {
		o = js.Null()
	}
	var s string
	if err := catchJS(func() { s = js.Global().Get("JSON").Call("stringify", o).String() }); err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), v)
}

// formatBytes writes n in kB, MB or GB (powers of 1000, as browsers show).
func formatBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}
