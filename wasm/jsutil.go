//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"syscall/js"
)

// await blocks the calling goroutine until promise settles and returns its
// value, or its rejection as an error. It must not be called from inside a
// js.FuncOf callback (the callback would block the event loop that has to
// resolve the promise). The js.Funcs it creates are released before it
// returns. A value that is not a thenable is returned as is.
func await(promise js.Value) (js.Value, error) {
	if promise.Type() != js.TypeObject || promise.Get("then").Type() != js.TypeFunction {
		return promise, nil
	}
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(this js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{err: jsError(v)}
		return nil
	})
	promise.Call("then", onOK, onErr)
	r := <-ch
	onOK.Release()
	onErr.Release()
	return r.v, r.err
}

// bytesToJS copies b into a new ArrayBuffer (through a Uint8Array) and
// returns the ArrayBuffer, ready for a postMessage transfer list or an
// IndexedDB put.
func bytesToJS(b []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	if len(b) > 0 {
		js.CopyBytesToJS(u8, b)
	}
	return u8.Get("buffer")
}

// bytesFromJS copies the bytes of an ArrayBuffer or of any TypedArray /
// DataView (its viewed window only) into a new Go slice. Anything else gives
// nil.
func bytesFromJS(v js.Value) []byte {
	if v.Type() != js.TypeObject {
		return nil
	}
	g := js.Global()
	var u8 js.Value
	switch {
	case v.InstanceOf(g.Get("Uint8Array")) || v.InstanceOf(g.Get("Uint8ClampedArray")):
		u8 = v
	case v.InstanceOf(g.Get("ArrayBuffer")):
		u8 = g.Get("Uint8Array").New(v)
	case g.Get("SharedArrayBuffer").Type() == js.TypeFunction && v.InstanceOf(g.Get("SharedArrayBuffer")):
		u8 = g.Get("Uint8Array").New(v)
	case g.Get("ArrayBuffer").Call("isView", v).Bool():
		u8 = g.Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	default:
		return nil
	}
	if !u8.InstanceOf(g.Get("Uint8Array")) {
		u8 = g.Get("Uint8Array").New(u8.Get("buffer"), u8.Get("byteOffset"), u8.Get("byteLength"))
	}
	b := make([]byte, u8.Get("length").Int())
	if len(b) > 0 {
		js.CopyBytesToGo(b, u8)
	}
	return b
}

// jsError turns a JS exception / rejection value (Error, DOMException,
// string, anything) into a Go error whose text is "Name: message" when the
// value has those, else its string form. null/undefined give a generic
// error (never nil: callers only call it on failure).
// wasmMemoryBytes is the size of this Go instance's WebAssembly memory,
// which never shrinks: the peak of the heap and the runtime together. It
// is 0 where worker.js did not record the memory.
func wasmMemoryBytes() int {
	m := js.Global().Get("__wasmMemory")
	if m.Type() != js.TypeObject {
		return 0
	}
	return m.Get("buffer").Get("byteLength").Int()
}

func jsError(v js.Value) error {
	switch v.Type() {
	case js.TypeUndefined, js.TypeNull:
		return errors.New("unknown JavaScript error")
	case js.TypeString:
		return errors.New(v.String())
	case js.TypeObject:
		name, msg := "", ""
		if n := v.Get("name"); n.Type() == js.TypeString {
			name = n.String()
		}
		if m := v.Get("message"); m.Type() == js.TypeString {
			msg = m.String()
		}
		switch {
		case name != "" && msg != "":
			return &jsErr{name: name, msg: name + ": " + msg}
		case msg != "":
			return &jsErr{msg: msg}
		case name != "":
			return &jsErr{name: name, msg: name}
		}
		return errors.New(js.Global().Get("String").Invoke(v).String())
	}
	return fmt.Errorf("JavaScript error: %s", js.Global().Get("String").Invoke(v).String())
}

// jsErr is a JS error with its name kept (e.g. "QuotaExceededError",
// "AbortError") so callers can tell kinds apart with jsErrorName.
type jsErr struct {
	name string
	msg  string
}

func (e *jsErr) Error() string { return e.msg }

// jsErrorName returns the JS error name ("QuotaExceededError", …) carried by
// err, or "".
func jsErrorName(err error) string {
	var je *jsErr
	if errors.As(err, &je) {
		return je.name
	}
	return ""
}
