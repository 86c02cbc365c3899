package site

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func testFS() fstest.MapFS {
	mod := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), ModTime: mod} }
	return fstest.MapFS{
		"index.html":        file("<!doctype html><title>x</title>"),
		"boot.js":           file("'use strict';"),
		"style.css":         file("body{}"),
		"cyclegan.wasm":     file("\x00asm\x01\x00\x00\x00"),
		"handler.go":        file("package site"),
		".gitignore":        file("*.wasm"),
		"icons/logo.svg":    file("<svg/>"),
		"docs/index.html":   file("<p>docs</p>"),
		"empty/readme.txt":  file("no index here"),
		"nested/.secret.js": file("secret"),
	}
}

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkSecurityHeaders checks the headers every response carries, 404s
// included.
func checkSecurityHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	want := map[string]string{
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Content-Security-Policy":      ContentSecurityPolicy,
		"X-Content-Type-Options":       "nosniff",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestHandlerFiles(t *testing.T) {
	h := Handler(testFS())
	tests := []struct {
		path, ctype, body string
	}{
		{"/", "text/html; charset=utf-8", "<!doctype html><title>x</title>"},
		{"/index.html", "text/html; charset=utf-8", "<!doctype html><title>x</title>"},
		{"/boot.js", "text/javascript; charset=utf-8", "'use strict';"},
		{"/style.css", "text/css; charset=utf-8", "body{}"},
		{"/cyclegan.wasm", "application/wasm", "\x00asm\x01\x00\x00\x00"},
		{"/icons/logo.svg", "image/svg+xml", "<svg/>"},
		{"/docs/", "text/html; charset=utf-8", "<p>docs</p>"},
		{"/docs", "text/html; charset=utf-8", "<p>docs</p>"},
		{"/./boot.js", "text/javascript; charset=utf-8", "'use strict';"},
		{"/icons/../boot.js", "text/javascript; charset=utf-8", "'use strict';"},
		{"/index.html?v=2", "text/html; charset=utf-8", "<!doctype html><title>x</title>"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, tt.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			checkSecurityHeaders(t, rec)
			if got := rec.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if got := rec.Body.String(); got != tt.body {
				t.Errorf("body %q, want %q", got, tt.body)
			}
		})
	}
}

func TestHandlerNotFound(t *testing.T) {
	h := Handler(testFS())
	for _, p := range []string{
		"/missing.js",
		"/handler.go",        // Go sources beside the page are not served
		"/.gitignore",        // nor dotfiles
		"/nested/.secret.js", // nor anything under a dot segment
		"/empty/",            // a directory without index.html: no listing
		"/empty",
		"/icons/",
		"/../etc/passwd",
		"/boot.js/",
	} {
		t.Run(p, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, p, nil)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status %d, want 404; body %q", rec.Code, rec.Body.String())
			}
			checkSecurityHeaders(t, rec)
			if strings.Contains(rec.Body.String(), "readme.txt") || strings.Contains(rec.Body.String(), "logo.svg") {
				t.Errorf("body lists the directory: %q", rec.Body.String())
			}
		})
	}
}

func TestHandlerMethods(t *testing.T) {
	h := Handler(testFS())
	rec := get(t, h, http.MethodHead, "/cyclegan.wasm", nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, body %d bytes; want 200, empty", rec.Code, rec.Body.Len())
	}
	if got := rec.Header().Get("Content-Type"); got != "application/wasm" {
		t.Errorf("HEAD Content-Type = %q", got)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		rec := get(t, h, m, "/index.html", nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, rec.Code)
		}
		if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s: Allow = %q", m, got)
		}
		checkSecurityHeaders(t, rec)
	}
}

func TestHandlerRevalidation(t *testing.T) {
	h := Handler(testFS())
	rec := get(t, h, http.MethodGet, "/boot.js", nil)
	lm := rec.Header().Get("Last-Modified")
	if lm == "" {
		t.Fatal("no Last-Modified")
	}
	rec = get(t, h, http.MethodGet, "/boot.js", http.Header{"If-Modified-Since": {lm}})
	if rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", rec.Code)
	}
}

// TestHandlerSiteDir serves this directory itself: index.html, boot.js and
// style.css are committed; the generated files may be absent.
func TestHandlerSiteDir(t *testing.T) {
	h := Handler(os.DirFS("."))
	for _, p := range []string{"/", "/boot.js", "/style.css"} {
		rec := get(t, h, http.MethodGet, p, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", p, rec.Code)
		}
	}
	for _, p := range []string{"/handler.go", "/doc.go"} {
		if rec := get(t, h, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, rec.Code)
		}
	}
}

func TestBundleRoundTrip(t *testing.T) {
	wasm := []byte("\x00asm\x01\x00\x00\x00\xff\xfe")
	exec := "\"use strict\";\n(() => { globalThis.Go = class {}; })();"
	worker := "self.onmessage = (e) => { if (e.data.type === \"boot\") {} }; // </script> \u2028"
	var buf bytes.Buffer
	if err := WriteBundle(&buf, wasm, exec, worker); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "self.CYCLEGAN_BUNDLE = {") {
		t.Fatalf("bundle does not define self.CYCLEGAN_BUNDLE:\n%s", buf.String())
	}
	if strings.ContainsRune(buf.String(), '\u2028') {
		t.Error("bundle has a raw U+2028 (a line terminator inside a JS string before ES2019)")
	}
	b, err := ParseBundle(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if b.Worker != exec+"\n"+worker {
		t.Errorf("worker = %q", b.Worker)
	}
	if want := "AGFzbQEAAAD//g=="; b.Wasm != want {
		t.Errorf("wasm = %q, want %q", b.Wasm, want)
	}
}

// TestHandlerWithAPI: requests under /api/ go to the API, whatever their
// method, with the security headers; the rest are the site's files. With
// no API, /api/… is a missing file.
func TestHandlerWithAPI(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"api":"` + r.Method + " " + r.URL.Path + `"}`))
	})
	h := HandlerWithAPI(testFS(), api)
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/models", `{"api":"GET /api/models"}`},
		{http.MethodPost, "/api/models", `{"api":"POST /api/models"}`},
		{http.MethodDelete, "/api/models/x", `{"api":"DELETE /api/models/x"}`},
		{http.MethodGet, "/boot.js", "'use strict';"},
	} {
		rec := get(t, h, tt.method, tt.path, nil)
		if rec.Code != http.StatusOK || rec.Body.String() != tt.body {
			t.Errorf("%s %s: %d %q, want 200 %q", tt.method, tt.path, rec.Code, rec.Body, tt.body)
		}
		checkSecurityHeaders(t, rec)
	}
	for _, h := range []http.Handler{Handler(testFS()), HandlerWithAPI(testFS(), nil)} {
		rec := get(t, h, http.MethodGet, "/api/models", nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET /api/models without an API: %d, want 404", rec.Code)
		}
		checkSecurityHeaders(t, rec)
	}
}
