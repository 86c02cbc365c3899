//go:build js && wasm

// Package wasm is everything of the browser app that touches JavaScript:
// the engine worker (message loop, image intake through the browser's
// decoders, training, previews, webcam frames), the IndexedDB checkpoint
// store, and the page's UI. The training itself is package cyclegan,
// unchanged: this package only moves data between it and the browser.
//
// Every file is behind //go:build js && wasm.
package wasm
