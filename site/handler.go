package site

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// ContentSecurityPolicy is sent with every response. It allows nothing from
// other origins: scripts, styles, images, media and connections come from
// this origin, blob: URLs (the engine worker, downloads) or data: URLs; the
// WebAssembly module may be compiled ('wasm-unsafe-eval'); webcam frames
// arrive as mediastream: URLs.
const ContentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval' blob:; " +
	"worker-src 'self' blob:; " +
	"connect-src 'self' blob: data:; " +
	"img-src 'self' blob: data:; " +
	"media-src 'self' blob: mediastream:; " +
	"style-src 'self' 'unsafe-inline'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'"

// contentTypes are the file types the handler serves, by extension. Files
// of any other type (the Go sources beside the page, dotfiles, …) are not
// served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".wasm": "application/wasm",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// Handler serves the static files of fsys, the site directory.
//
// Every response carries Cross-Origin-Opener-Policy: same-origin,
// Cross-Origin-Embedder-Policy: require-corp (the page is cross-origin
// isolated), Cross-Origin-Resource-Policy: same-origin, the
// ContentSecurityPolicy, X-Content-Type-Options: nosniff and
// Referrer-Policy: no-referrer. Files are served with their Content-Type
// (application/wasm for .wasm) and Cache-Control: no-cache, so a rebuilt
// page is picked up on reload (the browser revalidates with
// If-Modified-Since).
//
// "/" and any directory path serve that directory's index.html; there are
// no directory listings. Paths with a segment starting with "." and files
// of types not in the handler's list answer 404 Not Found. Only GET and
// HEAD are allowed (405 otherwise).
func Handler(fsys fs.FS) http.Handler {
	return &handler{fsys: fsys}
}

// APIPrefix is the path under which HandlerWithAPI mounts the API.
const APIPrefix = "/api/"

// HandlerWithAPI is Handler with an API mounted under APIPrefix: requests
// for /api/… get the same security headers and then go to api, whatever
// their method (the model-sharing API, share.NewHandler, answers there).
// Everything else is served from fsys as by Handler. With a nil api it is
// Handler, and /api/… answers 404 (no such file): a page can tell that
// the server it came from has no API. cmd/serve and cmd/edge both serve
// the site through it, so the two set the same headers.
func HandlerWithAPI(fsys fs.FS, api http.Handler) http.Handler {
	return &handler{fsys: fsys, api: api}
}

type handler struct {
	fsys fs.FS
	api  http.Handler // nil: no API
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Cross-Origin-Embedder-Policy", "require-corp")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")

	if h.api != nil && strings.HasPrefix(r.URL.Path, APIPrefix) {
		h.api.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	name, ok := fileName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, info, err := h.open(name)
	if err == nil && info.IsDir() {
		// A directory named without the trailing slash: serve its
		// index.html too, if it has one.
		f.Close()
		name = path.Join(name, "index.html")
		f, info, err = h.open(name)
		if err == nil && info.IsDir() {
			f.Close()
			err = fs.ErrNotExist
		}
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	ctype, ok := contentTypes[path.Ext(name)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Cache-Control", "no-cache")

	content, ok := f.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, "read error", http.StatusInternalServerError)
			return
		}
		content = bytes.NewReader(b)
	}
	http.ServeContent(w, r, path.Base(name), modTime(info), content)
}

// fileName maps a URL path to a name in the file system: "/" and paths
// ending in "/" name the index.html there. It reports false for paths that
// must not be served (a segment starting with ".").
func fileName(urlPath string) (string, bool) {
	p := path.Clean("/" + urlPath)
	if strings.HasSuffix(urlPath, "/") || p == "/" {
		p = path.Join(p, "index.html")
	}
	name := strings.TrimPrefix(p, "/")
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	return name, fs.ValidPath(name)
}

func (h *handler) open(name string) (fs.File, fs.FileInfo, error) {
	f, err := h.fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, errors.New("not a regular file")
	}
	return f, info, nil
}

// modTime is info's modification time, or the zero time (no Last-Modified
// header) when the file system does not know it.
func modTime(info fs.FileInfo) time.Time {
	t := info.ModTime()
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t
}
