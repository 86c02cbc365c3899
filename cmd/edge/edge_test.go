//go:build !(js && wasm)

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyclegan-wasm/cyclegan/site/share/sharetest"
)

// wranglerVersion is the wrangler package.json and package-lock.json pin:
// the newest that runs on Node 20.
const wranglerVersion = "4.86.0"

// edgeMaxUpload is the upload cap the test gives the Worker
// (MAX_UPLOAD_BYTES), small so the oversize uploads are cheap.
const edgeMaxUpload = 256 << 10

// TestWranglerDev builds this Worker, starts it under `wrangler dev
// --local` (workerd, with R2, KV and the static assets simulated by
// miniflare) on 127.0.0.1 and runs the API scenario against it, then
// checks the static files. It installs wrangler into node_modules (npm ci)
// if it is not there, and is skipped only when it cannot: no npm, or the
// npm registry unreachable.
func TestWranglerDev(t *testing.T) {
	wrangler := installWrangler(t)
	tmp := t.TempDir()

	// A small site: the page, and files of the types the site serves,
	// one big enough to stream in many chunks.
	siteDir := filepath.Join(tmp, "site")
	big := make([]byte, 3<<20+12345)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	files := map[string][]byte{
		"index.html":    []byte("<!doctype html><title>edge test</title>"),
		"boot.js":       []byte("'use strict';"),
		"cyclegan.wasm": big,
		"handler.go":    []byte("package site"), // not copied, not served
	}
	if err := os.Mkdir(siteDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(siteDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(tmp, "build")
	start := time.Now()
	build := exec.Command("bash", "build.sh", siteDir, out)
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	} else {
		t.Logf("build: %v: %s", time.Since(start).Round(time.Millisecond), bytes.TrimSpace(b))
	}
	config := writeConfig(t, tmp, out)

	start = time.Now()
	base := startWrangler(t, wrangler, config, filepath.Join(tmp, "state"))
	t.Logf("wrangler dev ready in %v", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	// A timeout, so that a request wrangler dev loses fails the test
	// rather than hanging it.
	client := &http.Client{Timeout: time.Minute}
	sharetest.Run(t, sharetest.Server{URL: base, Client: client, MaxUpload: edgeMaxUpload, NoUnreadBody: true})
	t.Logf("scenario: %v", time.Since(start).Round(time.Millisecond))

	t.Run("static", func(t *testing.T) {
		get := func(path string, header http.Header) (*http.Response, []byte) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			for k, v := range header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return resp, b
		}
		resp, b := get("/cyclegan.wasm", nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, big) {
			t.Fatalf("GET /cyclegan.wasm: %d, %d bytes; want 200 and the %d bytes of the file", resp.StatusCode, len(b), len(big))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Content-Type %q", ct)
		}
		lm := resp.Header.Get("Last-Modified")
		if lm == "" {
			t.Error("no Last-Modified (the build time)")
		} else if resp, _ := get("/cyclegan.wasm", http.Header{"If-Modified-Since": {lm}}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET: %d, want 304", resp.StatusCode)
		}
		resp, b = get("/cyclegan.wasm", http.Header{"Range": {"bytes=1000000-1000099"}})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, big[1000000:1000100]) {
			t.Errorf("range GET: %d, %d bytes", resp.StatusCode, len(b))
		}
		for _, p := range []string{"/missing.js", "/handler.go", "/index.html/"} {
			if resp, _ := get(p, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
			}
		}
		if resp, b := get("/boot.js", nil); resp.StatusCode != http.StatusOK || string(b) != "'use strict';" ||
			resp.Header.Get("Cross-Origin-Embedder-Policy") != "require-corp" {
			t.Errorf("GET /boot.js: %d %q %v", resp.StatusCode, b, resp.Header)
		}
	})
}

// installWrangler returns the path of a wrangler of wranglerVersion in
// node_modules, installing it with npm ci (package-lock.json) if needed.
// It skips the test when npm is missing or the registry does not answer.
func installWrangler(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("node_modules", ".bin", "wrangler"))
	if err != nil {
		t.Fatal(err)
	}
	if installedVersion() == wranglerVersion {
		return bin
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skipf("skipping: npm is not installed, so wrangler@%s cannot be (install Node.js 20 and npm)", wranglerVersion)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ping := exec.CommandContext(ctx, npm, "ping", "--fetch-retries=0", "--fetch-timeout=20000")
	if b, err := ping.CombinedOutput(); err != nil {
		t.Skipf("skipping: the npm registry is unreachable (npm ping: %v), so wrangler@%s cannot be installed:\n%s", err, wranglerVersion, b)
	}
	t.Logf("installing wrangler@%s (npm ci in cmd/edge)", wranglerVersion)
	start := time.Now()
	ci := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	if b, err := ci.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, b)
	}
	t.Logf("npm ci: %v", time.Since(start).Round(time.Millisecond))
	if v := installedVersion(); v != wranglerVersion {
		t.Fatalf("npm ci installed wrangler %q, want %s", v, wranglerVersion)
	}
	return bin
}

// installedVersion is the version of node_modules/wrangler, or "".
func installedVersion() string {
	b, err := os.ReadFile(filepath.Join("node_modules", "wrangler", "package.json"))
	if err != nil {
		return ""
	}
	var p struct{ Version string }
	json.Unmarshal(b, &p)
	if _, err := os.Stat(filepath.Join("node_modules", ".bin", "wrangler")); err != nil {
		return ""
	}
	return p.Version
}

// writeConfig writes dir/wrangler.json: the committed wrangler.jsonc with
// the Worker and the assets taken from out.
func writeConfig(t *testing.T, dir, out string) string {
	t.Helper()
	src, err := os.ReadFile("wrangler.jsonc")
	if err != nil {
		t.Fatal(err)
	}
	// wrangler.jsonc has whole-line comments only.
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "//") {
			lines = append(lines, l)
		}
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(strings.Join(lines, "\n")), &cfg); err != nil {
		t.Fatalf("wrangler.jsonc: %v", err)
	}
	delete(cfg, "$schema")
	cfg["main"] = filepath.Join(out, "worker", "worker.mjs")
	cfg["assets"].(map[string]any)["directory"] = filepath.Join(out, "site")
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "wrangler.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// freePort is a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startWrangler starts wrangler dev --local on 127.0.0.1 and returns its
// base URL once GET /api/models answers 200; the process group (wrangler
// and workerd) is stopped when the test ends.
func startWrangler(t *testing.T, wrangler, config, state string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(wrangler, "dev", "--local", "--config", config,
		"--ip", "127.0.0.1", "--port", fmt.Sprint(port), "--inspector-port", fmt.Sprint(freePort(t)),
		"--persist-to", state, "--var", fmt.Sprintf("MAX_UPLOAD_BYTES:%d", edgeMaxUpload),
		"--show-interactive-dev-session=false", "--log-level", "warn")
	cmd.Env = append(os.Environ(),
		"WRANGLER_SEND_METRICS=false",       // no telemetry
		"CLOUDFLARE_CF_FETCH_ENABLED=false", // no fetch of the Request.cf example
		"NO_COLOR=1", "CI=1")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("wrangler dev output:\n%s", logs.String())
		}
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.After(3 * time.Minute)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("wrangler dev exited: %v\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("wrangler dev not ready after 3 minutes:\n%s", logs.String())
		case <-tick.C:
			resp, err := http.Get(base + "/api/models")
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
			t.Fatalf("GET /api/models: %s\n%s", resp.Status, logs.String())
		}
	}
}
