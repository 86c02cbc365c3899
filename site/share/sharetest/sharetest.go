// Package sharetest is the sharing API's scenario, in one place, run by
// the tests against every server that serves it: share's own tests over
// httptest (memory and on-disk stores) and cmd/edge's test over wrangler
// dev (R2 and KV simulated by miniflare). It also makes the generator
// files the scenario uploads.
//
// It is test support: it imports package testing and reports through a
// *testing.T.
package sharetest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
	"github.com/cyclegan-wasm/cyclegan/site"
	"github.com/cyclegan-wasm/cyclegan/site/share"
)

// Server is a running site with the sharing API, and what the scenario
// must know of its configuration.
type Server struct {
	// URL is the site's base URL (http://127.0.0.1:8787), without a
	// trailing slash. Its "/" serves an index.html.
	URL string
	// Client sends the requests (http.DefaultClient when nil).
	Client *http.Client
	// MaxUpload and MaxHeader are the server's share.Config caps
	// (the defaults when 0).
	MaxUpload, MaxHeader int64
	// NoUnreadBody skips the oversize upload without a Content-Length,
	// which the server answers with the body unread: wrangler dev's local
	// proxy then restarts the worker and may leave the next request
	// hanging (its flaw, not the handler's, which the native runs test).
	NoUnreadBody bool
}

// Generator returns a bare generator file of the given width and number
// of residual blocks, with seeded random weights and metadata meta (as
// the page's and the CLI's export write it).
func Generator(t testing.TB, ngf, blocks int, seed uint64, meta map[string]string) []byte {
	t.Helper()
	g := cyclegan.NewGenerator(ngf, blocks)
	cyclegan.InitWeights(g, rand.New(rand.NewPCG(seed, 1)))
	b, err := cyclegan.MarshalGenerator(g, meta)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Malformed returns named uploads the API must refuse with 400, each not
// a generator for another reason, given the server's header cap.
func Malformed(t testing.TB, maxHeader int64) map[string][]byte {
	t.Helper()
	if maxHeader <= 0 {
		maxHeader = share.DefaultMaxHeader
	}
	good := Generator(t, 4, 2, 7, nil)
	// The same tensors, one of another dtype.
	f, err := safetensors.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	asF64 := maps.Clone(f.Tensors)
	w := asF64["model.1.weight"]
	asF64["model.1.weight"] = safetensors.Tensor{DType: "F64", Shape: []int{4, 3, 7, 7}, Data: append(bytes.Clone(w.Data), w.Data...)}
	wrongShape := maps.Clone(f.Tensors)
	wrongShape["model.4.weight"] = safetensors.Tensor{DType: "F32", Shape: []int{8, 4, 3, 3, 1}, Data: f.Tensors["model.4.weight"].Data}
	extraKey := maps.Clone(f.Tensors)
	extraKey["classifier.weight"] = safetensors.F32([]int{2}, []float32{1, 2})
	checkpoint := maps.Clone(f.Tensors)
	hugeHeader := binary.LittleEndian.AppendUint64(nil, uint64(maxHeader)+1)
	return map[string][]byte{
		"garbage":           []byte("this is not a safetensors file, just some text"),
		"short":             []byte{1, 2, 3},
		"truncated":         good[:len(good)-100],
		"header too large":  append(hugeHeader, []byte(`{"__metadata__":{}}`)...),
		"not a generator":   marshal(t, map[string]safetensors.Tensor{"weight": safetensors.F32([]int{2, 2}, []float32{1, 2, 3, 4})}, nil),
		"wrong dtype":       marshal(t, asF64, nil),
		"wrong shape":       marshal(t, wrongShape, nil),
		"unexpected tensor": marshal(t, extraKey, nil),
		"checkpoint":        marshal(t, checkpoint, map[string]string{"format": cyclegan.CheckpointFormat}),
	}
}

func marshal(t testing.TB, tensors map[string]safetensors.Tensor, meta map[string]string) []byte {
	t.Helper()
	b, err := safetensors.Marshal(tensors, meta)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Run runs the scenario against s: the site's page and the API's answers
// (status, JSON, headers) to uploads, downloads, listings and deletes,
// good and bad. It leaves the server as it found it: the models it
// uploads it deletes. The server's list must hold fewer than 48 models
// when it starts.
func Run(t *testing.T, s Server) {
	c := &client{t: t, s: s}
	if c.s.Client == nil {
		c.s.Client = http.DefaultClient
	}
	if c.s.MaxUpload <= 0 {
		c.s.MaxUpload = share.DefaultMaxUpload
	}

	t.Run("page", func(t *testing.T) {
		c := c.with(t)
		resp, _ := c.do(http.MethodGet, "/", nil, nil)
		c.status(resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET /: Content-Type %q, want text/html", ct)
		}
	})

	resp, body := c.do(http.MethodHead, share.Prefix, nil, nil)
	c.status(resp, http.StatusOK)
	if len(body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD %s: %d bytes of body, Content-Type %q", share.Prefix, len(body), resp.Header.Get("Content-Type"))
	}
	before := c.list()
	if len(before) > share.ListLimit-2 {
		t.Fatalf("the server lists %d models already; the scenario needs room for 2 more", len(before))
	}

	// Two uploads: one with every field, one with none (its numbers
	// from the file's metadata).
	start := time.Now()
	fileA := Generator(t, 4, 2, 1, map[string]string{"iteration": "123", "crop_size": "64"})
	fileB := Generator(t, 8, 1, 2, map[string]string{"iteration": "77", "crop_size": "32"})
	var a, b uploaded
	t.Run("upload", func(t *testing.T) {
		c := c.with(t)
		q := url.Values{"name": {"  Horses → Zebras  "}, "domainA": {"horse"}, "domainB": {"zebra"},
			"resolution": {"128"}, "iterations": {"4000"}}
		a = c.upload(q, fileA)
		want := share.Meta{ID: a.ID, Name: "Horses → Zebras", DomainA: "horse", DomainB: "zebra",
			Resolution: 128, NGF: 4, Blocks: 2, Iterations: 4000, Size: int64(len(fileA)), Date: a.Model.Date}
		if a.Model != want {
			t.Errorf("model A = %+v,\nwant %+v", a.Model, want)
		}
		b = c.upload(nil, fileB)
		want = share.Meta{ID: b.ID, Name: "Untitled model", DomainA: "A", DomainB: "B",
			Resolution: 32, NGF: 8, Blocks: 1, Iterations: 77, Size: int64(len(fileB)), Date: b.Model.Date}
		if b.Model != want {
			t.Errorf("model B = %+v,\nwant %+v", b.Model, want)
		}
		// The server's clock and ours may differ a little.
		for _, m := range []share.Meta{a.Model, b.Model} {
			if d := time.UnixMilli(m.Date).Sub(start); d < -time.Minute || d > time.Minute {
				t.Errorf("date %d is %v from the time of upload", m.Date, d)
			}
		}
		if a.ID == b.ID || a.DeleteToken == b.DeleteToken || a.DeleteToken == a.ID {
			t.Errorf("ids and tokens repeat: %+v, %+v", a, b)
		}
		for _, v := range []string{a.ID, b.ID, a.DeleteToken, b.DeleteToken} {
			if len(v) < 22 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
				t.Errorf("%q is not at least 128 bits of URL-safe base64", v)
			}
		}
	})
	if a.ID == "" || b.ID == "" {
		t.Fatal("uploads failed; the rest of the scenario needs them")
	}

	t.Run("download", func(t *testing.T) {
		c := c.with(t)
		for _, m := range []struct {
			up   uploaded
			file []byte
		}{{a, fileA}, {b, fileB}} {
			resp, body := c.do(http.MethodGet, share.Prefix+"/"+m.up.ID, nil, nil)
			c.status(resp, http.StatusOK)
			if !bytes.Equal(body, m.file) {
				t.Errorf("download of %s: %d bytes, not the %d uploaded", m.up.ID, len(body), len(m.file))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("download Content-Type %q", ct)
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".safetensors") {
				t.Errorf("download Content-Disposition %q", cd)
			}
			resp, body = c.do(http.MethodHead, share.Prefix+"/"+m.up.ID, nil, nil)
			c.status(resp, http.StatusOK)
			if len(body) != 0 || resp.Header.Get("Content-Type") != "application/octet-stream" {
				t.Errorf("HEAD of a model: %d bytes of body, Content-Type %q", len(body), resp.Header.Get("Content-Type"))
			}
			var info share.Meta
			c.getJSON(share.Prefix+"/"+m.up.ID+"/info", http.StatusOK, &info)
			if info != m.up.Model {
				t.Errorf("info = %+v, want %+v", info, m.up.Model)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		c := c.with(t)
		got := c.list()
		if len(got) != len(before)+2 {
			t.Fatalf("list has %d models, want %d", len(got), len(before)+2)
		}
		for i := 1; i < len(got); i++ {
			if got[i-1].Date < got[i].Date {
				t.Errorf("list not newest first: %d before %d", got[i-1].Date, got[i].Date)
			}
		}
		for _, up := range []uploaded{a, b} {
			i := slices.IndexFunc(got, func(m share.Meta) bool { return m.ID == up.ID })
			if i < 0 {
				t.Errorf("list lacks %s", up.ID)
			} else if got[i] != up.Model {
				t.Errorf("listed %+v, want %+v", got[i], up.Model)
			}
		}
	})

	t.Run("rejected", func(t *testing.T) {
		c := c.with(t)
		reject := func(name string, status int, q url.Values, body io.Reader, header http.Header) {
			t.Run(name, func(t *testing.T) {
				c := c.with(t)
				resp, raw := c.do(http.MethodPost, share.Prefix+"?"+q.Encode(), body, header)
				c.status(resp, status)
				c.errorReason(resp, raw)
			})
		}
		octet := http.Header{"Content-Type": {"application/octet-stream"}}
		big := make([]byte, c.s.MaxUpload+1)
		reject("oversize", http.StatusRequestEntityTooLarge, nil, bytes.NewReader(big), octet)
		reject("empty", http.StatusBadRequest, nil, bytes.NewReader(nil), octet)
		bad := Malformed(t, s.MaxHeader)
		for _, name := range slices.Sorted(maps.Keys(bad)) {
			reject(name, http.StatusBadRequest, nil, bytes.NewReader(bad[name]), octet)
		}
		for name, q := range map[string]url.Values{
			"control character in name": {"name": {"a\x07b"}},
			"name too long":             {"name": {strings.Repeat("x", share.MaxNameLen+1)}},
			"domain too long":           {"domainB": {strings.Repeat("é", share.MaxDomainLen)}},
			"resolution not a number":   {"resolution": {"big"}},
			"negative iterations":       {"iterations": {"-1"}},
		} {
			reject(name, http.StatusBadRequest, q, bytes.NewReader(fileA), octet)
		}
		reject("form content type", http.StatusUnsupportedMediaType, nil, bytes.NewReader(fileA),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		reject("cross-site", http.StatusForbidden, nil, bytes.NewReader(fileA),
			http.Header{"Content-Type": {"application/octet-stream"}, "Sec-Fetch-Site": {"cross-site"}})
		// No Content-Length: the server finds out by reading, and answers
		// with the rest of the body unread.
		if !c.s.NoUnreadBody {
			reject("oversize chunked", http.StatusRequestEntityTooLarge, nil, struct{ io.Reader }{bytes.NewReader(big)}, octet)
			c.settle()
		}

		if after := c.list(); len(after) != len(before)+2 {
			t.Errorf("after the rejected uploads the list has %d models, want %d: something was stored", len(after), len(before)+2)
		}
	})

	t.Run("not found", func(t *testing.T) {
		c := c.with(t)
		unknown := "AAAAAAAAAAAAAAAAAAAAAA"
		for _, p := range []string{
			share.Prefix + "/" + unknown,
			share.Prefix + "/" + unknown + "/info",
			share.Prefix + "/not-an-id",
			share.Prefix + "/" + a.ID + "/more",
			share.Prefix + "/" + a.ID + "/info/more",
		} {
			resp, raw := c.do(http.MethodGet, p, nil, nil)
			c.status(resp, http.StatusNotFound)
			c.errorReason(resp, raw)
		}
		resp, raw := c.do(http.MethodDelete, share.Prefix+"/"+unknown, nil, http.Header{"X-Delete-Token": {a.DeleteToken}})
		c.status(resp, http.StatusNotFound)
		c.errorReason(resp, raw)
		resp, raw = c.do(http.MethodPut, share.Prefix, bytes.NewReader(fileA), nil)
		c.status(resp, http.StatusMethodNotAllowed)
		c.errorReason(resp, raw)
	})

	t.Run("delete", func(t *testing.T) {
		c := c.with(t)
		for name, h := range map[string]http.Header{
			"no token":          nil,
			"wrong token":       {"X-Delete-Token": {"wrong"}},
			"other's token":     {"X-Delete-Token": {b.DeleteToken}},
			"id as token":       {"X-Delete-Token": {a.ID}},
			"token, cross-site": {"X-Delete-Token": {a.DeleteToken}, "Sec-Fetch-Site": {"cross-site"}},
		} {
			resp, raw := c.do(http.MethodDelete, share.Prefix+"/"+a.ID, nil, h)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: DELETE status %d, want 403", name, resp.StatusCode)
			}
			c.errorReason(resp, raw)
		}
		resp, _ := c.do(http.MethodGet, share.Prefix+"/"+a.ID+"/info", nil, nil)
		c.status(resp, http.StatusOK)

		for _, up := range []uploaded{a, b} {
			resp, raw := c.do(http.MethodDelete, share.Prefix+"/"+up.ID, nil, http.Header{"X-Delete-Token": {up.DeleteToken}})
			c.status(resp, http.StatusNoContent)
			if len(raw) != 0 {
				t.Errorf("204 with a body: %q", raw)
			}
			for _, p := range []string{share.Prefix + "/" + up.ID, share.Prefix + "/" + up.ID + "/info"} {
				resp, raw := c.do(http.MethodGet, p, nil, nil)
				c.status(resp, http.StatusNotFound)
				c.errorReason(resp, raw)
			}
			resp, raw = c.do(http.MethodDelete, share.Prefix+"/"+up.ID, nil, http.Header{"X-Delete-Token": {up.DeleteToken}})
			c.status(resp, http.StatusNotFound)
			c.errorReason(resp, raw)
		}
		if after := c.list(); len(after) != len(before) {
			t.Errorf("after the deletes the list has %d models, want %d", len(after), len(before))
		}
	})
}

// uploaded is the answer to an upload.
type uploaded struct {
	ID          string     `json:"id"`
	DeleteToken string     `json:"deleteToken"`
	Model       share.Meta `json:"model"`
}

// client sends the scenario's requests and checks what every answer must
// have: the site's security headers and no CORS.
type client struct {
	t *testing.T
	s Server
}

func (c *client) with(t *testing.T) *client { return &client{t: t, s: c.s} }

func (c *client) do(method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.s.Client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	c.checkHeaders(method+" "+path, resp)
	return resp, raw
}

// securityHeaders are the headers of site.Handler, which every answer,
// the API's included, carries.
var securityHeaders = map[string]string{
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Embedder-Policy": "require-corp",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Content-Security-Policy":      site.ContentSecurityPolicy,
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
}

func (c *client) checkHeaders(what string, resp *http.Response) {
	c.t.Helper()
	for k, v := range securityHeaders {
		if got := resp.Header.Get(k); got != v {
			c.t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			c.t.Errorf("%s: CORS header %s: %q", what, k, resp.Header.Get(k))
		}
	}
}

func (c *client) status(resp *http.Response, want int) {
	c.t.Helper()
	if resp.StatusCode != want {
		c.t.Errorf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

// errorReason checks that an error answer is {"error": "…"} with a
// reason.
func (c *client) errorReason(resp *http.Response, raw []byte) {
	c.t.Helper()
	var e struct{ Error string }
	if err := c.decode(resp, raw, &e); err != nil {
		c.t.Errorf("%s %s: %v", resp.Request.Method, resp.Request.URL.Path, err)
		return
	}
	if e.Error == "" {
		c.t.Errorf("%s %s: status %d with no reason: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, raw)
	}
	if testing.Verbose() {
		c.t.Logf("%s %s: %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, e.Error)
	}
}

func (c *client) decode(resp *http.Response, raw []byte, v any) error {
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("Content-Type %q, want application/json; body %.200q", ct, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding %.200q: %v", raw, err)
	}
	return nil
}

// settle waits, for at most 10 seconds, until GET /api/models answers
// 200. After a worker answers before it has read the whole request body
// (an oversize upload without Content-Length), wrangler dev's local proxy
// drops its connection to the worker and restarts it, and the next
// request may fail (503 "Your worker restarted mid-request"); it retries
// only GET and HEAD. A real server answers at once.
func (c *client) settle() {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := c.s.Client.Get(c.s.URL + share.Prefix)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("GET %s does not answer 200 (%v, %v)", share.Prefix, resp, err)
		}
		<-tick.C
	}
}

func (c *client) getJSON(path string, status int, v any) {
	c.t.Helper()
	resp, raw := c.do(http.MethodGet, path, nil, nil)
	c.status(resp, status)
	if err := c.decode(resp, raw, v); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
}

func (c *client) list() []share.Meta {
	c.t.Helper()
	var l struct {
		Models []share.Meta `json:"models"`
	}
	c.getJSON(share.Prefix, http.StatusOK, &l)
	if l.Models == nil {
		c.t.Errorf("GET %s: no \"models\" array", share.Prefix)
	}
	if len(l.Models) > share.ListLimit {
		c.t.Errorf("GET %s: %d models, more than %d", share.Prefix, len(l.Models), share.ListLimit)
	}
	return l.Models
}

func (c *client) upload(q url.Values, file []byte) uploaded {
	c.t.Helper()
	resp, raw := c.do(http.MethodPost, share.Prefix+"?"+q.Encode(), bytes.NewReader(file),
		http.Header{"Content-Type": {"application/octet-stream"}})
	c.status(resp, http.StatusCreated)
	var up uploaded
	if err := c.decode(resp, raw, &up); err != nil {
		c.t.Fatalf("upload: %v", err)
	}
	if up.ID != up.Model.ID {
		c.t.Errorf("upload: id %q, model id %q", up.ID, up.Model.ID)
	}
	return up
}
