//go:build js && wasm

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"syscall/js"
	"time"
)

// assetsFS is the Worker's static assets (the site's files, uploaded from
// build/site) as an fs.FS, read through the ASSETS binding, so that
// site.Handler serves them as it serves a directory. It holds only files:
// a directory name is not found. Files stream from the binding; their
// ModTime is the build's.
//
// It calls the binding's fetch itself: syumai/workers' fetch client calls
// a binding's fetch without its `this`, which workerd refuses ("Illegal
// invocation").
type assetsFS struct {
	binding js.Value // undefined: no ASSETS binding, every file is missing
	modTime time.Time
}

func newAssetsFS(binding js.Value, modTime time.Time) *assetsFS {
	return &assetsFS{binding: binding, modTime: modTime}
}

// Open implements fs.FS: a GET of /name from the assets, which answer the
// file itself or 404 (wrangler.jsonc sets html_handling and
// not_found_handling to "none").
func (a *assetsFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if a.binding.IsUndefined() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	u := url.URL{Scheme: "https", Host: "assets.invalid", Path: "/" + name}
	resp, err := call("assets fetch", a.binding, "fetch", u.String())
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	body := newStreamReader(resp.Get("body"))
	switch status := resp.Get("status").Int(); status {
	case 200:
	case 404:
		body.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	default:
		body.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("assets answered %d", status)}
	}
	f := &assetFile{name: path.Base(name), modTime: a.modTime, body: body, size: -1}
	if cl := resp.Get("headers").Call("get", "Content-Length"); cl.Type() == js.TypeString {
		if n, err := strconv.ParseInt(cl.String(), 10, 64); err == nil && n >= 0 {
			f.size = n
		}
	}
	if f.size < 0 {
		// No length: read it whole, so that Seek can tell the size.
		b, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		f.body, f.size = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	return f, nil
}

// assetFile is an open asset: a stream of known size that seeks forward
// lazily. http.ServeContent seeks to the end for the size and back to the
// start (or a range's start) before it reads, so Seek only records the
// offset and Read skips ahead to it; seeking back to bytes already read
// is an error.
type assetFile struct {
	name    string
	modTime time.Time
	body    io.ReadCloser
	size    int64
	off     int64 // where the next Read starts
	pos     int64 // bytes consumed from body
}

var errSeekBack = errors.New("asset stream cannot seek back")

func (f *assetFile) Stat() (fs.FileInfo, error) { return assetInfo{f}, nil }
func (f *assetFile) Close() error               { return f.body.Close() }

// Seek implements io.Seeker.
func (f *assetFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

// Read implements io.Reader.
func (f *assetFile) Read(p []byte) (int, error) {
	if f.off < f.pos {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errSeekBack}
	}
	if f.off >= f.size {
		return 0, io.EOF
	}
	if skip := f.off - f.pos; skip > 0 {
		n, err := io.CopyN(io.Discard, f.body, skip)
		f.pos += n
		if err != nil {
			return 0, err
		}
	}
	n, err := f.body.Read(p[:min(int64(len(p)), f.size-f.off)])
	f.pos += int64(n)
	f.off += int64(n)
	return n, err
}

// assetInfo is an assetFile's fs.FileInfo.
type assetInfo struct{ f *assetFile }

func (i assetInfo) Name() string       { return i.f.name }
func (i assetInfo) Size() int64        { return i.f.size }
func (i assetInfo) Mode() fs.FileMode  { return 0o444 }
func (i assetInfo) ModTime() time.Time { return i.f.modTime }
func (i assetInfo) IsDir() bool        { return false }
func (i assetInfo) Sys() any           { return nil }
