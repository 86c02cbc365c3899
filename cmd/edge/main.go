//go:build js && wasm

package main

import (
	"log"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"

	"github.com/cyclegan-wasm/cyclegan/site"
	"github.com/cyclegan-wasm/cyclegan/site/share"
)

// buildTime is the Unix time (seconds) of the build, set by build.sh
// (-ldflags -X main.buildTime=…): the Last-Modified of every static file,
// so that browsers revalidate them as they do with cmd/serve.
var buildTime string

// Binding and variable names (wrangler.jsonc).
const (
	assetsBinding = "ASSETS"
	bucketBinding = "MODELS"
	kvBinding     = "MODELS_INDEX"
	maxUploadVar  = "MAX_UPLOAD_BYTES"
)

// memoryLimit is the Go heap's soft limit (runtime/debug.SetMemoryLimit).
const memoryLimit = 64 << 20

// main runs once per request: the Workers glue starts a new Go instance
// for each one.
func main() {
	log.SetFlags(0)
	// A Worker has 128 MB for its JavaScript and WebAssembly memory
	// together, and WebAssembly memory never shrinks: collect garbage
	// before the heap grows much past what is live (an upload; checking it
	// decodes nothing).
	debug.SetMemoryLimit(memoryLimit)
	var modTime time.Time
	if s, err := strconv.ParseInt(buildTime, 10, 64); err == nil {
		modTime = time.Unix(s, 0)
	}
	files := newAssetsFS(cloudflare.GetBinding(assetsBinding), modTime)

	var api http.Handler
	store, err := newCloudflareStore(bucketBinding, kvBinding)
	if err != nil {
		log.Printf("edge: no sharing API: %v", err)
	} else {
		cfg := share.Config{}
		if v := cloudflare.GetBinding(maxUploadVar); v.Truthy() {
			n, err := strconv.ParseInt(v.String(), 10, 64)
			if err != nil || n <= 0 {
				log.Printf("edge: %s %q is not a positive number of bytes; using the default", maxUploadVar, v.String())
			}
			cfg.MaxUpload = n
		}
		api = share.NewHandler(store, cfg)
	}
	workers.Serve(adapt(site.HandlerWithAPI(files, api)))
}
