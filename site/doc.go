// Package site is the browser app's web page: the static files in this
// directory (index.html, boot.js, style.css, and the generated cyclegan.wasm,
// wasm_exec.js and bundle.js that `make site` writes) and the HTTP handler
// that serves them with the headers the app wants (cross-origin isolation, a
// Content-Security-Policy that keeps every request on this origin, the wasm
// MIME type).
//
// The page also works without a server, opened from disk: bundle.js carries
// the WebAssembly module (base64) and the worker's JavaScript, because a
// file:// page can neither fetch files nor start a worker from a file URL.
// WriteBundle produces it.
//
// This package is plain Go (no syscall/js); cmd/serve serves it.
package site
