//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"io"
	"syscall/js"
)

var (
	object     = js.Global().Get("Object")
	jsonObject = js.Global().Get("JSON")
	uint8Array = js.Global().Get("Uint8Array")
)

// await waits for the JavaScript promise p and returns its value, or an
// error with the rejection's message. Only the calling goroutine waits:
// the callbacks hand the outcome over a channel and return at once.
func await(p js.Value) (js.Value, error) {
	type outcome struct {
		v   js.Value
		err error
	}
	done := make(chan outcome, 1)
	onResolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- outcome{v: args[0]}
		return nil
	})
	defer onResolve.Release()
	onReject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "rejected"
		if len(args) > 0 {
			msg = args[0].Call("toString").String()
		}
		done <- outcome{err: errors.New(msg)}
		return nil
	})
	defer onReject.Release()
	p.Call("then", onResolve, onReject)
	o := <-done
	return o.v, o.err
}

// call calls method on v and awaits the promise it returns, with op in
// the error.
func call(op string, v js.Value, method string, args ...any) (js.Value, error) {
	var p js.Value
	err := catch(func() { p = v.Call(method, args...) })
	if err == nil {
		p, err = await(p)
	}
	if err != nil {
		return js.Value{}, fmt.Errorf("%s: %w", op, err)
	}
	return p, nil
}

// catch runs f, turning a JavaScript exception it throws (a panic of
// js.Value.Call) into an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// parseJSON is JSON.parse(s).
func parseJSON(s string) js.Value { return jsonObject.Call("parse", s) }

// stringify is JSON.stringify(v).
func stringify(v js.Value) string { return jsonObject.Call("stringify", v).String() }

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	a := uint8Array.New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// streamReader reads a JavaScript ReadableStream of Uint8Arrays (a
// fetch body); a null stream (a body-less response) is empty.
type streamReader struct {
	reader js.Value // the stream's reader; undefined until the first Read
	stream js.Value
	chunk  []byte // the unread rest of the last chunk
	err    error
}

func newStreamReader(stream js.Value) *streamReader { return &streamReader{stream: stream} }

// Read implements io.Reader.
func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.chunk) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.stream.IsNull() || r.stream.IsUndefined() {
			r.err = io.EOF
			continue
		}
		if r.reader.IsUndefined() {
			r.reader = r.stream.Call("getReader")
		}
		res, err := await(r.reader.Call("read"))
		switch {
		case err != nil:
			r.err = fmt.Errorf("reading a stream: %w", err)
		case res.Get("done").Bool():
			r.err = io.EOF
		default:
			v := res.Get("value")
			r.chunk = make([]byte, v.Get("byteLength").Int())
			js.CopyBytesToGo(r.chunk, v)
		}
	}
	n := copy(p, r.chunk)
	r.chunk = r.chunk[n:]
	return n, nil
}

// Close implements io.Closer: it cancels the stream if it is not read to
// its end.
func (r *streamReader) Close() error {
	if r.err == nil && !r.stream.IsNull() && !r.stream.IsUndefined() {
		if r.reader.IsUndefined() {
			r.stream.Call("cancel")
		} else {
			r.reader.Call("cancel")
		}
	}
	r.err = io.ErrClosedPipe
	return nil
}
