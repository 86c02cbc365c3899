//go:build js && wasm

package wasm

import (
	"bytes"
	"container/list"
	"errors"
	"fmt"
	"image"
	"math"
	"path"
	"strings"
	"sync"
	"syscall/js"

	_ "golang.org/x/image/bmp" // header sizes of BMP files

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// Image intake through the browser's own decoders: createImageBitmap (which
// also downscales large photos on the way, cheaply), an OffscreenCanvas to
// composite on white, and one bulk copy of the RGBA into Go.

// imageExts are the file extensions taken as images when a file's MIME
// type does not say so.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".bmp": true}

// errNotImage is the reason a file is skipped at intake.
var errNotImage = errors.New("not an image")

// looksLikeImage reports whether a file is worth decoding: its MIME type is
// image/*, or its name has an image extension.
func looksLikeImage(name, mime string) bool {
	return strings.HasPrefix(strings.ToLower(mime), "image/") || imageExts[strings.ToLower(path.Ext(name))]
}

// skipInfo is one file skipped, as listed to the page in MsgIntake.
type skipInfo struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// fileEntry is one File handle of a domain.
type fileEntry struct {
	id   uint64 // unique for the worker's lifetime: the cache key
	name string
	file js.Value
}

// fileDomain is a cyclegan.Domain over browser File handles. Files are
// decoded lazily by Open, at the load size, and the decoded load-size
// copies are kept in a byte-bounded LRU cache shared by the domains.
type fileDomain struct {
	label    string // "A" or "B"
	entries  []fileEntry
	skipped  []skipInfo // files refused at intake ("not an image")
	loadSize int
	cache    *imageCache
	dec      *decoder
}

var fileIDs struct {
	sync.Mutex
	next uint64
}

func nextFileID() uint64 {
	fileIDs.Lock()
	defer fileIDs.Unlock()
	fileIDs.next++
	return fileIDs.next
}

func newFileDomain(label string, cache *imageCache, dec *decoder) *fileDomain {
	return &fileDomain{label: label, cache: cache, dec: dec}
}

// add appends File handles (files: a JS array of File; paths: a JS array
// of relative paths, or undefined) and returns how many were taken and the
// files skipped as plainly not images.
func (d *fileDomain) add(files, paths js.Value) (added int, skipped []skipInfo) {
	n := 0
	if files.Type() == js.TypeObject {
		n = files.Get("length").Int()
	}
	for i := 0; i < n; i++ {
		f := files.Index(i)
		name := ""
		if paths.Type() == js.TypeObject && i < paths.Get("length").Int() {
			if p := paths.Index(i); p.Type() == js.TypeString {
				name = p.String()
			}
		}
		if name == "" {
			if nm := f.Get("name"); nm.Type() == js.TypeString {
				name = nm.String()
			}
		}
		mime := ""
		if t := f.Get("type"); t.Type() == js.TypeString {
			mime = t.String()
		}
		if !looksLikeImage(name, mime) {
			sk := skipInfo{Name: name, Reason: errNotImage.Error()}
			d.skipped = append(d.skipped, sk)
			skipped = append(skipped, sk)
			continue
		}
		d.entries = append(d.entries, fileEntry{id: nextFileID(), name: name, file: f})
		added++
	}
	return added, skipped
}

// clear forgets every file (and the intake skips).
func (d *fileDomain) clear() {
	for _, e := range d.entries {
		d.cache.forget(e.id)
	}
	d.entries, d.skipped = nil, nil
}

// snapshot is a copy of d for a training run: later adds and clears do not
// change it (a Sampler needs its domain fixed), but it shares the cache.
func (d *fileDomain) snapshot(loadSize int) *fileDomain {
	s := *d
	s.entries = append([]fileEntry(nil), d.entries...)
	s.skipped = append([]skipInfo(nil), d.skipped...)
	s.loadSize = loadSize
	return &s
}

// Len is the number of image files.
func (d *fileDomain) Len() int { return len(d.entries) }

// Name is file i's relative path (or name).
func (d *fileDomain) Name(i int) string { return d.entries[i].name }

// String names the domain in errors.
func (d *fileDomain) String() string { return "your " + d.label + " images" }

// Open returns file i resized to loadSize×loadSize (composited on white),
// from the cache or decoded now. It blocks on the browser's decoder, so it
// must run on a goroutine, never inside a js.FuncOf callback. Errors are
// *cyclegan.ImageError naming the file.
func (d *fileDomain) Open(i int) (image.Image, error) {
	e := d.entries[i]
	l := d.loadSize
	if l <= 0 {
		return nil, &cyclegan.ImageError{Name: e.name, Err: errors.New("no load size set")}
	}
	key := cacheKey{id: e.id, size: l}
	if img := d.cache.get(key); img != nil {
		return img, nil
	}
	full, err := d.dec.decodeFile(e.file, func(w, h int) (int, int) { return fitForLoad(w, h, l) }, true)
	if err != nil {
		return nil, &cyclegan.ImageError{Name: e.name, Err: err}
	}
	img := cyclegan.Resize(full, l, l)
	d.cache.put(key, img)
	return img, nil
}

// fitForLoad is the size the browser decodes a w×h image at when it is
// destined for load×load: images much larger (the short side over 4× the
// load size) come down to a short side of 2× the load size, keeping the
// aspect ratio; the exact bicubic resize to load×load follows in Go.
func fitForLoad(w, h, load int) (int, int) {
	short := min(w, h)
	if short <= 4*load {
		return w, h
	}
	s := float64(2*load) / float64(short)
	return max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
}

// fitPixels is the size, keeping the aspect ratio, of at most maxPixels
// pixels (the image's own size when it is within).
func fitPixels(w, h, maxPixels int) (int, int) {
	if w*h <= maxPixels {
		return w, h
	}
	s := math.Sqrt(float64(maxPixels) / float64(w*h))
	return max(1, int(float64(w)*s)), max(1, int(float64(h)*s))
}

// decoder decodes images through createImageBitmap and one reused
// OffscreenCanvas.
type decoder struct {
	maxPixels int // refused above this (cyclegan.DefaultMaxPixels when 0)
	canvas    js.Value
	ctx       js.Value
}

// headerBytes is how much of a file is read to find its dimensions (a
// JPEG's size comes after its EXIF block, which may hold a thumbnail).
const headerBytes = 256 << 10

// headerSize reads the start of a file and returns the dimensions its
// header announces, or 0, 0 if Go cannot tell (the browser may still be
// able to decode it).
func headerSize(file js.Value) (int, int) {
	var p js.Value
	if catchJS(func() { p = file.Call("slice", 0, headerBytes).Call("arrayBuffer") }) != nil {
		return 0, 0
	}
	buf, err := await(p)
	if err != nil {
		return 0, 0
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(bytesFromJS(buf)))
	if err != nil {
		return 0, 0
	}
	return cfg.Width, cfg.Height
}

// decodeFile decodes a File (or Blob) to pixels composited on white. fit
// gives, from the image's size, the size to decode at (the browser
// downscales); nil keeps the image's size. An image announcing more than
// the pixel limit is refused before it is decoded.
//
// With early, the size comes from the file's header and the browser
// downscales while decoding (cheapest); the header's size ignores EXIF
// orientation, so a rotated photo may come out with its sides' scales
// swapped, which is harmless for training images (resized to a square
// anyway). Without early, the size is the decoded, oriented one.
func (dc *decoder) decodeFile(file js.Value, fit func(w, h int) (int, int), early bool) (*image.NRGBA, error) {
	if file.Type() != js.TypeObject || file.Get("size").Type() != js.TypeNumber {
		return nil, errors.New("not a file")
	}
	if file.Get("size").Int() == 0 {
		return nil, errors.New("corrupt or unsupported image: the file is empty")
	}
	hw, hh := headerSize(file)
	if err := dc.checkPixels(hw, hh); err != nil {
		return nil, err
	}
	opts := map[string]any{"colorSpaceConversion": "none", "premultiplyAlpha": "default"}
	resized := false
	if hw > 0 && hh > 0 && fit != nil && early {
		if rw, rh := fit(hw, hh); rw != hw || rh != hh {
			opts["resizeWidth"], opts["resizeHeight"], opts["resizeQuality"] = rw, rh, "high"
			resized = true
		}
	}
	bm, err := createBitmap(file, opts)
	if err != nil {
		return nil, err
	}
	w, h := bm.Get("width").Int(), bm.Get("height").Int()
	if !resized {
		// Go could not read the header (or nothing to resize): check and
		// fit the size the browser found.
		if err := dc.checkPixels(w, h); err != nil {
			bm.Call("close")
			return nil, err
		}
		if fit != nil {
			if rw, rh := fit(w, h); rw != w || rh != h {
				small, err := createBitmap(bm, map[string]any{"resizeWidth": rw, "resizeHeight": rh, "resizeQuality": "high"})
				bm.Call("close")
				if err != nil {
					return nil, err
				}
				bm, w, h = small, rw, rh
			}
		}
	}
	defer bm.Call("close")
	return dc.draw(bm, w, h)
}

// checkPixels refuses an image of more than the pixel limit.
func (dc *decoder) checkPixels(w, h int) error {
	limit := dc.maxPixels
	if limit <= 0 {
		limit = cyclegan.DefaultMaxPixels
	}
	if px := int64(w) * int64(h); px > int64(limit) {
		return fmt.Errorf("%d×%d is %.0f megapixels, over the limit of %d: %w",
			w, h, float64(px)/(1<<20), limit>>20, cyclegan.ErrTooLarge)
	}
	return nil
}

// createBitmap is createImageBitmap(src, opts); a rejection is a corrupt or
// unsupported image.
func createBitmap(src js.Value, opts map[string]any) (js.Value, error) {
	var p js.Value
	if err := catchJS(func() { p = js.Global().Call("createImageBitmap", src, js.ValueOf(opts)) }); err != nil {
		return js.Undefined(), fmt.Errorf("corrupt or unsupported image: %v", err)
	}
	bm, err := await(p)
	if err != nil {
		return js.Undefined(), fmt.Errorf("corrupt or unsupported image: %v", err)
	}
	if bm.Get("width").Int() <= 0 || bm.Get("height").Int() <= 0 {
		bm.Call("close")
		return js.Undefined(), errors.New("corrupt or unsupported image: no pixels")
	}
	return bm, nil
}

// draw paints src (an ImageBitmap, or anything drawImage takes) scaled to
// w×h on white and copies the pixels into Go in one go.
func (dc *decoder) draw(src js.Value, w, h int) (img *image.NRGBA, err error) {
	err = catchJS(func() {
		if dc.canvas.IsUndefined() {
			dc.canvas = js.Global().Get("OffscreenCanvas").New(w, h)
			dc.ctx = dc.canvas.Call("getContext", "2d", map[string]any{"willReadFrequently": true, "alpha": false})
		}
		if dc.canvas.Get("width").Int() != w || dc.canvas.Get("height").Int() != h {
			dc.canvas.Set("width", w) // also resets the context's state
			dc.canvas.Set("height", h)
		}
		ctx := dc.ctx
		ctx.Set("imageSmoothingEnabled", true)
		ctx.Set("imageSmoothingQuality", "high")
		ctx.Set("globalCompositeOperation", "source-over")
		ctx.Set("fillStyle", "#ffffff")
		ctx.Call("fillRect", 0, 0, w, h)
		ctx.Call("drawImage", src, 0, 0, w, h)
		data := ctx.Call("getImageData", 0, 0, w, h).Get("data")
		img = image.NewNRGBA(image.Rect(0, 0, w, h))
		js.CopyBytesToGo(img.Pix, data)
		if w*h > 1<<20 {
			// Do not keep a large backing store alive between images.
			dc.canvas.Set("width", 1)
			dc.canvas.Set("height", 1)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("drawing the image: %w", err)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255 // drawn on white: opaque
	}
	return img, nil
}

// cacheKey names one decoded copy: a file at a load size.
type cacheKey struct {
	id   uint64
	size int
}

// imageCache is an LRU cache of decoded images bounded in bytes.
type imageCache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	order    *list.List // front = most recently used; values *cacheItem
	items    map[cacheKey]*list.Element
}

type cacheItem struct {
	key cacheKey
	img *image.NRGBA
}

// defaultCacheBytes bounds the decoded training images kept in memory.
const defaultCacheBytes = 256 << 20

func newImageCache(maxBytes int) *imageCache {
	return &imageCache{maxBytes: maxBytes, order: list.New(), items: map[cacheKey]*list.Element{}}
}

func (c *imageCache) get(k cacheKey) *image.NRGBA {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cacheItem).img
	}
	return nil
}

func (c *imageCache) put(k cacheKey, img *image.NRGBA) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(img.Pix)
	if n > c.maxBytes {
		return
	}
	if e, ok := c.items[k]; ok {
		c.bytes -= len(e.Value.(*cacheItem).img.Pix)
		c.order.Remove(e)
	}
	c.items[k] = c.order.PushFront(&cacheItem{key: k, img: img})
	c.bytes += n
	for c.bytes > c.maxBytes {
		e := c.order.Back()
		it := e.Value.(*cacheItem)
		c.order.Remove(e)
		delete(c.items, it.key)
		c.bytes -= len(it.img.Pix)
	}
}

// forget drops every copy of file id.
func (c *imageCache) forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.items {
		if k.id == id {
			c.bytes -= len(e.Value.(*cacheItem).img.Pix)
			c.order.Remove(e)
			delete(c.items, k)
		}
	}
}

// len is the number of cached images and their bytes.
func (c *imageCache) len() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.bytes
}
