//go:build js && wasm

package main

import (
	"net/http"
	"strings"
)

// adapt makes h see requests and answer as under net/http, working around
// two things syumai/workers v0.31.0 does in converting between JavaScript
// and Go:
//
//   - It splits every request header at its commas, so that
//     If-Modified-Since: Thu, 26 Nov 2026 … arrives as "Thu" and
//     " 26 Nov 2026 …", and conditional requests fail. A JavaScript
//     Headers object holds one comma-joined string per name, so joining
//     the parts again with "," gives back exactly what the client sent.
//   - It answers a response with a Content-Length through a
//     FixedLengthStream of that length, which fails ("did not see all
//     expected bytes") for a HEAD request, whose answer has no body. A
//     HEAD answer goes out here without Content-Length, and whatever the
//     handler writes as its body is dropped, as net/http drops it.
//
// The ResponseWriter of any other request is passed on as it is: an R2
// object's body streams to it without passing through Go only when it
// is syumai/workers' own (which implements its raw-body interface).
func adapt(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range r.Header {
			if len(v) > 1 {
				r.Header[k] = []string{strings.Join(v, ",")}
			}
		}
		if r.Method != http.MethodHead {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(headWriter{w}, r)
		w.Header().Del("Content-Length")
	})
}

// headWriter answers a HEAD request: headers and status only.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) WriteHeader(code int) {
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(code)
}

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }
