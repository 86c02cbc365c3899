//go:build js && wasm

// Command app is the browser app's WebAssembly program. The same module
// runs twice: in the page, where it is the UI (wasm.RunPage), and in the
// engine worker the page starts, where it trains (wasm.RunWorker).
// site/boot.js starts the first; the page starts the second.
package main

import (
	"syscall/js"

	"github.com/cyclegan-wasm/cyclegan/wasm"
)

func main() {
	if js.Global().Get("document").Truthy() {
		wasm.RunPage()
	} else {
		wasm.RunWorker()
	}
	select {}
}
