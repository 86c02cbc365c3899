//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains: this program runs on Cloudflare Workers only.
func main() {
	fmt.Fprintln(os.Stderr, "edge: this is the Cloudflare Workers build (GOOS=js GOARCH=wasm, see cmd/edge/build.sh);\n"+
		"to serve the site and the sharing API on this machine, run: go run ./cmd/serve (or make serve)")
	os.Exit(2)
}
