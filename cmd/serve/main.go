// Command serve serves the browser app (the site directory) over HTTP on
// this machine, with the headers of site.Handler, and the model-sharing
// API (package share) under /api/models. It also writes the bundle.js the
// page needs when opened from disk.
//
//	serve [-dir site] [-addr 127.0.0.1:8080] [-models DIR | -memory]
//	serve -bundle [-dir site] [-worker worker.js]
//
// The first form refuses to start while DIR/cyclegan.wasm is missing
// ("run make site"). Shared models are kept in the -models directory
// (share.DirStore; by default cyclegan-wasm/models in the user's cache
// directory, or ./.models where there is none), or in memory with
// -memory (gone when serve exits); -models= (empty) serves no API, as a
// plain static host would, and the page hides its share buttons. The same
// handler serves the site on Cloudflare Workers (cmd/edge). The second
// form writes DIR/bundle.js from
// DIR/cyclegan.wasm, DIR/wasm_exec.js and the worker script (see
// site.WriteBundle) and exits; `make site` runs it.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cyclegan-wasm/cyclegan/site"
	"github.com/cyclegan-wasm/cyclegan/site/share"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("serve: ")
	dir := flag.String("dir", "site", "the site `directory` (built by make site)")
	addr := flag.String("addr", "127.0.0.1:8080", "listen `address` (host:port)")
	bundle := flag.Bool("bundle", false, "write DIR/bundle.js from DIR/cyclegan.wasm, DIR/wasm_exec.js and -worker, then exit")
	worker := flag.String("worker", "worker.js", "the engine worker's script `file` (with -bundle)")
	models := flag.String("models", defaultModelsDir(), "the `directory` of shared models (empty: no sharing API)")
	memory := flag.Bool("memory", false, "keep shared models in memory instead of -models (lost on exit)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: serve [-dir site] [-addr 127.0.0.1:8080] [-models DIR | -memory]\n       serve -bundle [-dir site] [-worker worker.js]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *bundle {
		if err := writeBundle(*dir, *worker); err != nil {
			log.Fatal(err)
		}
		return
	}
	api, where, err := sharingAPI(*models, *memory)
	if err != nil {
		log.Fatal(err)
	}
	if err := serve(*dir, *addr, api, where); err != nil {
		log.Fatal(err)
	}
}

// defaultModelsDir is where shared models are kept unless -models says
// otherwise: in the user's cache directory, or ./.models (gitignored) if
// there is none.
func defaultModelsDir() string {
	if cache, err := os.UserCacheDir(); err == nil {
		return filepath.Join(cache, "cyclegan-wasm", "models")
	}
	return ".models"
}

// sharingAPI returns the model-sharing API over the store the flags name,
// and words for where it keeps the models; a nil handler when there is to
// be no API.
func sharingAPI(dir string, memory bool) (http.Handler, string, error) {
	var store share.Store
	var where string
	switch {
	case memory:
		store, where = &share.MemoryStore{}, "shared models in memory"
	case dir == "":
		return nil, "no sharing API", nil
	default:
		ds, err := share.NewDirStore(dir)
		if err != nil {
			return nil, "", err
		}
		store, where = ds, "shared models in "+dir
	}
	return share.NewHandler(store, share.Config{}), where, nil
}

func serve(dir, addr string, api http.Handler, where string) error {
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return fmt.Errorf("%s is not the site directory (no index.html): %w", dir, err)
	}
	for _, name := range []string{"cyclegan.wasm", "wasm_exec.js", "bundle.js"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s is missing: run make site (or make serve) first", filepath.Join(dir, name))
			}
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("serving http://%s/ (%s)\n", displayAddr(ln.Addr()), where)
	srv := &http.Server{
		Handler:           site.HandlerWithAPI(os.DirFS(dir), api),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return srv.Serve(ln)
}

func writeBundle(dir, workerPath string) error {
	wasm, err := os.ReadFile(filepath.Join(dir, "cyclegan.wasm"))
	if err != nil {
		return fmt.Errorf("%w (run make site)", err)
	}
	exec, err := os.ReadFile(filepath.Join(dir, "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("%w (run make site)", err)
	}
	worker, err := os.ReadFile(workerPath)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := site.WriteBundle(&buf, wasm, string(exec), string(worker)); err != nil {
		return err
	}
	out := filepath.Join(dir, "bundle.js")
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// displayAddr is the host:port to print for a browser: an unspecified
// listen address (":8080", "0.0.0.0:8080") is shown as localhost.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
}
