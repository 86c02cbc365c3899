//go:build js && wasm

// Command app is the browser app's WebAssembly program. The same module
// runs in the page, where it is the UI (wasm.RunPage), in the engine
// worker the page starts, where it trains (wasm.RunWorker), and in the peer
// workers that lend the engine worker their cores (wasm.RunPeer, booted
// with CYCLEGAN_ROLE=peer). site/boot.js starts the first; the page starts
// the others.
package main

import (
	"syscall/js"

	"github.com/cyclegan-wasm/cyclegan/wasm"
)

func main() {
	if js.Global().Get("document").Truthy() {
		wasm.RunPage()
	} else if wasm.IsPeer() {
		wasm.RunPeer()
	} else {
		wasm.RunWorker()
	}
	select {}
}
