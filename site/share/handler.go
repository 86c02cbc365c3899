package share

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxUpload is the largest upload accepted, in bytes: room for
	// the reference generator (ngf 64, 9 residual blocks, 45.6 MB in F32)
	// and then some.
	DefaultMaxUpload = 64 << 20
	// DefaultMaxHeader caps a file's safetensors header, in bytes: the
	// reader's own cap (safetensors.Parser.MaxHeaderSize), set far below
	// its 100 MB default as its doc advises for uploads. A generator's
	// header (some 30 tensors and a few metadata strings) is a few KB.
	DefaultMaxHeader = 1 << 20
	// ListLimit is the most models GET /api/models answers.
	ListLimit = 50
)

// Config tunes a Handler. The zero Config takes the defaults.
type Config struct {
	// MaxUpload is the largest body, in bytes, an upload may have
	// (DefaultMaxUpload when 0). A larger one answers 413; the handler
	// never reads more than MaxUpload+1 bytes of it.
	MaxUpload int64
	// MaxHeader is the largest safetensors header, in bytes, an upload may
	// declare (DefaultMaxHeader when 0).
	MaxHeader int64
	// Now is the clock that dates uploads (time.Now when nil).
	Now func() time.Time
	// Rand is the source of ids and delete tokens (crypto/rand.Reader
	// when nil).
	Rand io.Reader
	// Logf logs the errors of the Store, which the client sees only as
	// 500 "storage error" (log.Printf when nil).
	Logf func(format string, args ...any)
}

func (c Config) withDefaults() Config {
	if c.MaxUpload <= 0 {
		c.MaxUpload = DefaultMaxUpload
	}
	if c.MaxHeader <= 0 {
		c.MaxHeader = DefaultMaxHeader
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logf == nil {
		c.Logf = log.Printf
	}
	return c
}

// Prefix is the path under which NewHandler serves the API.
const Prefix = "/api/models"

// NewHandler returns the sharing API over store (see the package doc for
// the endpoints). It answers every path it is given: paths outside the API
// answer 404 with a JSON error. It sets no security headers of its own
// (site.HandlerWithAPI does) and no CORS headers: the API is for the
// page's own origin, and POST and DELETE requests a browser marks as
// cross-site (Sec-Fetch-Site) are refused with 403.
func NewHandler(store Store, cfg Config) http.Handler {
	return &handler{store: store, cfg: cfg.withDefaults()}
}

type handler struct {
	store Store
	cfg   Config
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// listBody is the answer of GET /api/models.
type listBody struct {
	Models []Meta `json:"models"`
}

// uploadBody is the answer of a successful upload.
type uploadBody struct {
	ID          string `json:"id"`
	DeleteToken string `json:"deleteToken"`
	Model       Meta   `json:"model"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		writeError(w, r, http.StatusNotFound, "not found")
		return
	}
	rest = strings.TrimPrefix(rest, "/")
	id, sub, _ := strings.Cut(rest, "/")
	switch {
	case rest == "":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.list(w, r)
		case http.MethodPost:
			h.upload(w, r)
		default:
			methodNotAllowed(w, r, "GET, HEAD, POST")
		}
	case !ValidID(id) || (sub != "" && sub != "info") || strings.Count(rest, "/") > 1:
		writeError(w, r, http.StatusNotFound, "not found")
	case sub == "info":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.info(w, r, id)
		default:
			methodNotAllowed(w, r, "GET, HEAD")
		}
	default:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.download(w, r, id)
		case http.MethodDelete:
			h.delete(w, r, id)
		default:
			methodNotAllowed(w, r, "GET, HEAD, DELETE")
		}
	}
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	metas, err := h.store.List(r.Context(), ListLimit)
	if err != nil {
		h.storageError(w, r, "list", err)
		return
	}
	if metas == nil {
		metas = []Meta{}
	}
	writeJSON(w, r, http.StatusOK, listBody{Models: metas})
}

func (h *handler) info(w http.ResponseWriter, r *http.Request, id string) {
	rec, ok := h.record(w, r, id)
	if ok {
		writeJSON(w, r, http.StatusOK, rec.Meta)
	}
}

// record looks id up and answers 404 or 500 itself when it reports false.
func (h *handler) record(w http.ResponseWriter, r *http.Request, id string) (Record, bool) {
	rec, err := h.store.Record(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, r, http.StatusNotFound, "no model with id "+id)
		return Record{}, false
	case err != nil:
		h.storageError(w, r, "record "+id, err)
		return Record{}, false
	}
	return rec, true
}

func (h *handler) download(w http.ResponseWriter, r *http.Request, id string) {
	rec, ok := h.record(w, r, id)
	if !ok {
		return
	}
	f, err := h.store.Open(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, r, http.StatusNotFound, "no model with id "+id)
		return
	case err != nil:
		h.storageError(w, r, "open "+id, err)
		return
	}
	defer f.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName(rec.Meta)}))
	hdr.Set("Content-Length", strconv.FormatInt(rec.Meta.Size, 10))
	// A model's bytes never change under its id.
	hdr.Set("Cache-Control", "private, max-age=86400, immutable")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// f is passed as it is: on Workers an R2 body is handed to the
	// response as a stream, without passing through Go (io.WriterTo).
	if _, err := io.Copy(w, f); err != nil {
		h.cfg.Logf("share: download %s: %v", id, err)
	}
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName is the name a download is saved under: the model's name made
// safe for file systems, or its id.
func fileName(m Meta) string {
	base := strings.Trim(unsafeFileChars.ReplaceAllString(m.Name, "_"), "._-")
	if base == "" || m.Name == defaultName {
		base = "cyclegan-" + m.ID
	}
	return base + ".safetensors"
}

func (h *handler) upload(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		writeError(w, r, http.StatusForbidden, "cross-origin uploads are not allowed")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/octet-stream" {
			writeError(w, r, http.StatusUnsupportedMediaType, "send the .safetensors file as the raw body, Content-Type application/octet-stream, not "+strconv.Quote(ct))
			return
		}
	}
	fields, err := parseUploadFields(r.URL.Query())
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	limit := h.cfg.MaxUpload
	if r.ContentLength > limit {
		writeError(w, r, http.StatusRequestEntityTooLarge, tooLarge(r.ContentLength, limit))
		return
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// Room for the whole body and ReadFrom's final probe for EOF,
		// so a large file is not copied while the buffer grows.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1)); err != nil {
		writeError(w, r, http.StatusBadRequest, "reading the upload: "+err.Error())
		return
	}
	if int64(buf.Len()) > limit {
		writeError(w, r, http.StatusRequestEntityTooLarge, tooLarge(-1, limit))
		return
	}
	file := buf.Bytes()
	if len(file) == 0 {
		writeError(w, r, http.StatusBadRequest, "the upload is empty: send the .safetensors file as the body")
		return
	}
	gen, err := inspectGenerator(file, h.cfg.MaxHeader)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	id, err := newSecret(h.cfg.Rand, idBytes)
	if err != nil {
		h.storageError(w, r, "new id", err)
		return
	}
	token, err := newSecret(h.cfg.Rand, tokenBytes)
	if err != nil {
		h.storageError(w, r, "new token", err)
		return
	}
	meta := Meta{
		ID:         id,
		Name:       fields.name,
		DomainA:    fields.domainA,
		DomainB:    fields.domainB,
		Resolution: cmp.Or(fields.resolution, gen.resolution),
		NGF:        gen.ngf,
		Blocks:     gen.blocks,
		Iterations: cmp.Or(fields.iterations, gen.iterations),
		Size:       int64(len(file)),
		Date:       h.cfg.Now().UnixMilli(),
	}
	if err := h.store.Put(r.Context(), Record{Meta: meta, TokenHash: hashToken(token)}, file); err != nil {
		h.storageError(w, r, "put "+id, err)
		return
	}
	w.Header().Set("Location", Prefix+"/"+id)
	writeJSON(w, r, http.StatusCreated, uploadBody{ID: id, DeleteToken: token, Model: meta})
}

func tooLarge(n, max int64) string {
	if n < 0 {
		return fmt.Sprintf("the file is larger than the limit of %d bytes", max)
	}
	return fmt.Sprintf("the file is %d bytes, larger than the limit of %d bytes", n, max)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request, id string) {
	if crossSite(r) {
		writeError(w, r, http.StatusForbidden, "cross-origin deletes are not allowed")
		return
	}
	rec, ok := h.record(w, r, id)
	if !ok {
		return
	}
	token := r.Header.Get("X-Delete-Token")
	if token == "" {
		writeError(w, r, http.StatusForbidden, "missing X-Delete-Token header")
		return
	}
	if !tokenMatches(token, rec.TokenHash) {
		writeError(w, r, http.StatusForbidden, "wrong delete token")
		return
	}
	err := h.store.Delete(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, r, http.StatusNotFound, "no model with id "+id)
	case err != nil:
		h.storageError(w, r, "delete "+id, err)
	default:
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// crossSite reports whether a browser says r comes from another site or
// another origin of this site (Sec-Fetch-Site). Other clients (curl, the
// tests) send no such header and are let through.
func crossSite(r *http.Request) bool {
	s := r.Header.Get("Sec-Fetch-Site")
	return s == "cross-site" || s == "same-site"
}

func (h *handler) storageError(w http.ResponseWriter, r *http.Request, op string, err error) {
	h.cfg.Logf("share: %s: %v", op, err)
	writeError(w, r, http.StatusInternalServerError, "storage error")
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed (allowed: "+allow+")")
}

func writeError(w http.ResponseWriter, r *http.Request, status int, reason string) {
	writeJSON(w, r, status, errorBody{Error: reason})
}

// writeJSON answers v as application/json, not to be cached; a HEAD
// request gets the headers only.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("share: " + err.Error()) // the bodies are plain structs
	}
	b = append(b, '\n')
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}
