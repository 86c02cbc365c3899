package cyclegan

// The data pipeline: domains of images (folders, in-memory sets), decoding
// with a size limit, the reference's augmentation (resize with PIL's
// BICUBIC, random crop, random horizontal flip, mapping to [−1, 1]), the
// reverse mapping to pixels, and the unaligned sampler that pairs them.
//
// Everything here is pure Go and deterministic given the caller's
// *rand.Rand, so the CLI and the browser see the same tensors.

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	_ "image/gif" // registers GIF with image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	_ "golang.org/x/image/webp" // registers WebP with image.Decode

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// ErrEmptyDomain is wrapped by every error about a domain that has no usable
// image: a folder without files, an empty in-memory set, or a domain all of
// whose files failed to decode. The wrapping error names the domain.
var ErrEmptyDomain = errors.New("empty image domain")

// ErrTooLarge is wrapped when an image's header announces more pixels than
// the decoding limit: such an image is rejected before any pixel is decoded.
var ErrTooLarge = errors.New("too large to decode safely")

// ErrStateMismatch is wrapped by Sampler.Restore when a SamplerState does not
// belong to the sampler's domains (other files, or a different count).
var ErrStateMismatch = errors.New("sampler state does not match the domains")

// DefaultMaxPixels is the decoding limit used when a limit is 0: 64
// megapixels (64·2²⁰), about 256 MiB once decoded as RGBA.
const DefaultMaxPixels = 64 << 20

// Domain is a source of images of one style, numbered 0 … Len()−1. Open
// decodes image i when asked (a folder of thousands of photos is never held
// decoded in memory); it may fail for a file that is not a readable image,
// with an error naming it.
type Domain interface {
	Len() int
	Name(i int) string
	Open(i int) (image.Image, error)
}

// ImageError is an image that could not be read or decoded: Name is the file
// (or in-memory name), Err the reason.
type ImageError struct {
	Name string
	Err  error
}

// Error is "name: reason".
func (e *ImageError) Error() string { return e.Name + ": " + e.Err.Error() }

// Unwrap returns the reason, so errors.Is(err, ErrTooLarge) works.
func (e *ImageError) Unwrap() error { return e.Err }

// Decode decodes a PNG, JPEG, GIF (first frame) or WebP image from r. It
// first reads the header and rejects, with ErrTooLarge, an image of more than
// maxPixels pixels (DefaultMaxPixels when maxPixels ≤ 0), then seeks back to
// where it started and decodes. It returns the format name as image.Decode does.
// A decoder panic on hostile input is returned as an error.
func Decode(r io.ReadSeeker, maxPixels int) (img image.Image, format string, err error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoder failed on malformed data: %v", p)
		}
	}()
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, "", err
	}
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return nil, "", decodeReason(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, fmt.Errorf("%s header says %d×%d: no pixels", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(maxPixels) {
		return nil, format, fmt.Errorf("%s of %d×%d (%d pixels, limit %d): %w",
			format, cfg.Width, cfg.Height, px, maxPixels, ErrTooLarge)
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, format, err
	}
	img, format, err = image.Decode(r)
	if err != nil {
		return nil, format, fmt.Errorf("decoding %s: %w", format, decodeReason(err))
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, format, fmt.Errorf("decoded %s has no pixels", format)
	}
	if format == "webp" {
		switch m := img.(type) {
		case *image.YCbCr:
			img = webpToNRGBA(m, nil, 0)
		case *image.NYCbCrA:
			img = webpToNRGBA(&m.YCbCr, m.A, m.AStride)
		}
	}
	return img, format, nil
}

func decodeReason(err error) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return fmt.Errorf("not a PNG, JPEG, GIF or WebP image (%w)", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated file (%w)", err)
	}
	return err
}

// Folder is a Domain over the image files under a directory. Every regular
// file (or symbolic link to one) found recursively is a candidate, except
// hidden ones (a name starting with ".", such as .DS_Store) and anything
// inside hidden directories; they are ordered by their slash-separated path
// relative to Dir, as the reference's sorted(make_dataset(dir)). Files are
// decoded on Open, so a file that is not an image only shows up then.
type Folder struct {
	// Dir is the directory given to OpenFolder.
	Dir string
	// MaxPixels is the decoding limit (DefaultMaxPixels when ≤ 0).
	MaxPixels int

	names []string // relative, slash-separated, sorted
}

// OpenFolder lists the candidate image files under dir (see Folder). A
// directory without any is an error wrapping ErrEmptyDomain; so are a missing
// dir and a dir that is a file (with the os error).
func OpenFolder(dir string) (*Folder, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("image folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("image folder %s is not a directory", dir)
	}
	f := &Folder{Dir: dir}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			// A symbolic link counts when it leads to a regular file.
			st, err := os.Stat(path)
			if err != nil || !st.Mode().IsRegular() {
				return nil
			}
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		f.names = append(f.names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing image folder %s: %w", dir, err)
	}
	if len(f.names) == 0 {
		return nil, fmt.Errorf("image folder %s has no files: %w", dir, ErrEmptyDomain)
	}
	slices.Sort(f.names)
	return f, nil
}

// Len is the number of candidate files.
func (f *Folder) Len() int { return len(f.names) }

// Name is file i's path relative to Dir, with forward slashes.
func (f *Folder) Name(i int) string { return f.names[i] }

// Path is file i's path (Dir joined with Name).
func (f *Folder) Path(i int) string { return filepath.Join(f.Dir, filepath.FromSlash(f.names[i])) }

// String is Dir, naming the domain in errors.
func (f *Folder) String() string { return f.Dir }

// Open reads and decodes file i (see Decode). Errors are *ImageError with
// the file's path.
func (f *Folder) Open(i int) (image.Image, error) {
	path := f.Path(i)
	fh, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &ImageError{Name: path, Err: err}
	}
	defer fh.Close()
	img, _, err := Decode(fh, f.MaxPixels)
	if err != nil {
		return nil, &ImageError{Name: path, Err: err}
	}
	return img, nil
}

// IsDataset reports whether root has the reference's layout: subdirectories
// trainA/ and trainB/.
func IsDataset(root string) bool {
	for _, sub := range []string{"trainA", "trainB"} {
		st, err := os.Stat(filepath.Join(root, sub))
		if err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// OpenDataset opens the training domains of a dataset in the reference's
// layout: root/trainA and root/trainB.
func OpenDataset(root string) (a, b *Folder, err error) {
	return OpenDatasetPhase(root, "train")
}

// OpenDatasetPhase opens root/<phase>A and root/<phase>B, as the reference's
// --phase does (phase "test" gives testA and testB).
func OpenDatasetPhase(root, phase string) (a, b *Folder, err error) {
	if a, err = OpenFolder(filepath.Join(root, phase+"A")); err != nil {
		return nil, nil, fmt.Errorf("dataset %s: %w", root, err)
	}
	if b, err = OpenFolder(filepath.Join(root, phase+"B")); err != nil {
		return nil, nil, fmt.Errorf("dataset %s: %w", root, err)
	}
	return a, b, nil
}

// ResolveDomains turns what a user names into two domains: with b empty, a
// is a dataset root (OpenDataset); otherwise a and b are the folders of
// domains A and B.
func ResolveDomains(a, b string) (*Folder, *Folder, error) {
	if b == "" {
		if !IsDataset(a) {
			return nil, nil, fmt.Errorf("%s is not a dataset (no trainA/ and trainB/ inside); name the folders of both domains", a)
		}
		return OpenDataset(a)
	}
	fa, err := OpenFolder(a)
	if err != nil {
		return nil, nil, fmt.Errorf("domain A: %w", err)
	}
	fb, err := OpenFolder(b)
	if err != nil {
		return nil, nil, fmt.Errorf("domain B: %w", err)
	}
	return fa, fb, nil
}

// NamedImage is one decoded image of a MemoryDomain.
type NamedImage struct {
	Name  string
	Image image.Image
}

// MemoryDomain is a Domain of images already decoded (for example in the
// browser). Its order is the slice's.
type MemoryDomain []NamedImage

// Len is the number of images.
func (m MemoryDomain) Len() int { return len(m) }

// Name is image i's name.
func (m MemoryDomain) Name(i int) string { return m[i].Name }

// Open returns image i; a nil or empty image is an *ImageError.
func (m MemoryDomain) Open(i int) (image.Image, error) {
	img := m[i].Image
	if img == nil {
		return nil, &ImageError{Name: m[i].Name, Err: errors.New("no image")}
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, &ImageError{Name: m[i].Name, Err: errors.New("image has no pixels")}
	}
	return img, nil
}

// EncodedFile is one still-encoded image file of an EncodedDomain.
type EncodedFile struct {
	Name string
	Data []byte
}

// EncodedDomain is a Domain of image files held in memory in their encoded
// form (say, files a user dropped into a web page) and decoded on Open, so
// that only compressed bytes stay resident.
type EncodedDomain struct {
	Files []EncodedFile
	// MaxPixels is the decoding limit (DefaultMaxPixels when ≤ 0).
	MaxPixels int
}

// Len is the number of files.
func (e *EncodedDomain) Len() int { return len(e.Files) }

// Name is file i's name.
func (e *EncodedDomain) Name(i int) string { return e.Files[i].Name }

// Open decodes file i (see Decode); errors are *ImageError.
func (e *EncodedDomain) Open(i int) (image.Image, error) {
	img, _, err := Decode(bytes.NewReader(e.Files[i].Data), e.MaxPixels)
	if err != nil {
		return nil, &ImageError{Name: e.Files[i].Name, Err: err}
	}
	return img, nil
}

// Augment is the reference's training preprocessing (--preprocess
// resize_and_crop): resize to LoadSize×LoadSize ignoring the aspect ratio,
// take a random CropSize×CropSize crop, and mirror it horizontally with
// probability ½ when Flip is set.
type Augment struct {
	LoadSize, CropSize int
	Flip               bool
}

// DefaultAugment is the training preprocessing for crops of side crop with
// the reference's ratio of load to crop size (286/256), rounded: 256 → 286,
// 128 → 143, 64 → 72. Flips are on.
func DefaultAugment(crop int) Augment {
	return Augment{LoadSize: int(math.Round(float64(crop) * 286 / 256)), CropSize: crop, Flip: true}
}

// TestTime is the reference's test-time preprocessing: resize to crop×crop,
// no crop, no flip. It draws no randomness.
func TestTime(crop int) Augment { return Augment{LoadSize: crop, CropSize: crop} }

// Validate reports a crop size below 1 or above the load size.
func (a Augment) Validate() error {
	if a.CropSize < 1 || a.LoadSize < a.CropSize {
		return fmt.Errorf("%w: crop size %d must be between 1 and the load size %d", ErrConfig, a.CropSize, a.LoadSize)
	}
	return nil
}

// random reports whether the augmentation draws from its rng.
func (a Augment) random() bool { return a.Flip || a.LoadSize > a.CropSize }

// ImageToTensor writes img, preprocessed as the reference does for training,
// into dst, a caller-owned tensor of shape [1, 3, CropSize, CropSize]:
//
//  1. composite on white (transparent pixels become white) to 8-bit RGB;
//  2. resize to LoadSize×LoadSize with PIL's BICUBIC (see Resize), unless
//     the image already has that size;
//  3. crop at top = rng.IntN(LoadSize−CropSize+1), then left =
//     rng.IntN(LoadSize−CropSize+1) (torchvision's RandomCrop order, i then
//     j); nothing is drawn when LoadSize == CropSize;
//  4. when aug.Flip, draw rng.Float64() and mirror left–right if it is
//     below 0.5 (RandomHorizontalFlip); nothing is drawn without Flip;
//  5. map each 8-bit value v to (v/255 − 0.5)/0.5 in float32, exactly as
//     ToTensor and Normalize((0.5,)*3, (0.5,)*3) do: 0 → −1, 255 → 1.
//
// rng may be nil when nothing is drawn (TestTime). Only a bad aug, a nil rng
// that is needed, an empty img or a dst of the wrong shape is an error.
func ImageToTensor(img image.Image, aug Augment, rng *rand.Rand, dst *engine.Tensor) error {
	var p pipeline
	return p.toTensor(img, aug, rng, dst)
}

// ImageToTensorSize is the inference preprocessing at a chosen size: img
// composited on white, resized to w×h with PIL's BICUBIC (no resampling when
// that is img's own size: pass img.Bounds().Dx(), .Dy() to keep it), mapped
// to [−1, 1]. It returns a new [1, 3, h, w] tensor. It panics if w or h < 1
// or img is empty.
func ImageToTensorSize(img image.Image, w, h int) *engine.Tensor {
	if w < 1 || h < 1 || img.Bounds().Empty() {
		panic(fmt.Sprintf("cyclegan: ImageToTensorSize of a %v image to %d×%d", img.Bounds(), w, h))
	}
	var p pipeline
	pix := p.resize(img, w, h)
	t := engine.New(1, 3, h, w)
	plane := w * h
	for i := 0; i < plane; i++ {
		t.Data[i] = byteToUnit[pix[3*i]]
		t.Data[plane+i] = byteToUnit[pix[3*i+1]]
		t.Data[2*plane+i] = byteToUnit[pix[3*i+2]]
	}
	return t
}

// Resize composites img on white and resizes it to w×h exactly as Pillow's
// Image.resize((w, h), Image.BICUBIC) does to the 8-bit RGB result (no
// resampling when w×h is img's size). These are the pixels ImageToTensor
// crops, for previews. It panics if w or h < 1 or img is empty.
func Resize(img image.Image, w, h int) *image.NRGBA {
	if w < 1 || h < 1 || img.Bounds().Empty() {
		panic(fmt.Sprintf("cyclegan: Resize of a %v image to %d×%d", img.Bounds(), w, h))
	}
	var p pipeline
	pix := p.resize(img, w, h)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		copy(out.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		out.Pix[4*i+3] = 255
	}
	return out
}

// TensorToImage turns image 0 of an [N, 3, H, W] tensor back into pixels as
// the reference's tensor2im does: (x + 1) / 2 · 255 in float32, then
// truncated to uint8 like numpy's astype(uint8), after clamping to [0, 255]
// (NaN gives 0). It panics on a tensor of another shape.
func TensorToImage(t *engine.Tensor) *image.NRGBA {
	n, c, h, w := t.Dims()
	if n < 1 || c != 3 {
		panic(fmt.Sprintf("cyclegan: TensorToImage of %v, want [N, 3, H, W]", t))
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	for i := 0; i < plane; i++ {
		for ch := 0; ch < 3; ch++ {
			out.Pix[4*i+ch] = unitToByte(t.Data[ch*plane+i])
		}
		out.Pix[4*i+3] = 255
	}
	return out
}

func unitToByte(x float32) uint8 {
	v := float32(float32(x+1)/2) * 255
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}

// byteToUnit[v] is torchvision's ToTensor then Normalize(0.5, 0.5) of v,
// computed in float32 as torch does: (v/255 − 0.5)/0.5.
var byteToUnit = func() (lut [256]float32) {
	for v := range lut {
		x := float32(v) / 255
		lut[v] = float32(x-0.5) / 0.5
	}
	return lut
}()

// pipeline holds scratch buffers reused across images (one per Sampler).
type pipeline struct {
	row, tmp, out []uint8
	h, v          pilCoeffs // last coefficients, reused when sizes repeat
}

func (p *pipeline) toTensor(img image.Image, aug Augment, rng *rand.Rand, dst *engine.Tensor) error {
	if err := aug.Validate(); err != nil {
		return err
	}
	c := aug.CropSize
	if dst == nil || len(dst.Shape) != 4 || dst.Shape[0] != 1 || dst.Shape[1] != 3 ||
		dst.Shape[2] != c || dst.Shape[3] != c || len(dst.Data) != 3*c*c {
		return fmt.Errorf("cyclegan: image tensor %v, want [1, 3, %d, %d]", dst, c, c)
	}
	if rng == nil && aug.random() {
		return errors.New("cyclegan: random augmentation needs an rng")
	}
	if img == nil || img.Bounds().Empty() {
		return errors.New("cyclegan: image has no pixels")
	}
	l := aug.LoadSize
	pix := p.resize(img, l, l)
	top, left := 0, 0
	if l > c {
		top = rng.IntN(l - c + 1)
		left = rng.IntN(l - c + 1)
	}
	flip := aug.Flip && rng.Float64() < 0.5
	plane := c * c
	for y := 0; y < c; y++ {
		row := pix[((top+y)*l+left)*3:]
		o := y * c
		for x := 0; x < c; x++ {
			sx := x
			if flip {
				sx = c - 1 - x
			}
			s := row[3*sx : 3*sx+3]
			dst.Data[o+x] = byteToUnit[s[0]]
			dst.Data[plane+o+x] = byteToUnit[s[1]]
			dst.Data[2*plane+o+x] = byteToUnit[s[2]]
		}
	}
	return nil
}

// The resampler below is Pillow's (libImaging/Resample.c, 8 bits per
// channel), reproduced operation for operation so that the same image gives
// the same bytes as Image.resize(size, Image.BICUBIC), which is what the
// reference's transforms.Resize calls:
//
//   - the filter is the cubic convolution kernel with a = −0.5 (Catmull-Rom)
//     of support 2, stretched by the scale when downscaling (antialiasing);
//   - output pixel i of a side is centred on input pixel (i + 0.5)·in/out −
//     0.5 (centres aligned), taps are clipped to the image and their weights
//     normalised to sum to 1, then rounded to 22-bit fixed point;
//   - the horizontal pass runs first, over the rows the vertical pass needs,
//     into an 8-bit image (rounded and clamped), then the vertical pass;
//   - a side that keeps its size is not resampled.
//
// golang.org/x/image/draw's CatmullRom is the same kernel, but it keeps the
// intermediate image in higher precision, so it does not clamp overshoot
// between the passes, and rounds differently: on the test fixtures it
// differs from Pillow in about a quarter of the values, by up to 7 levels.

const pilPrecisionBits = 32 - 8 - 2

// pilCoeffs are the taps of one resampled side.
type pilCoeffs struct {
	in, out int
	ksize   int
	bounds  []int   // per output pixel: first input index, number of taps
	k       []int32 // per output pixel: ksize fixed-point weights
}

func pilBicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	// The explicit conversions keep the compiler from fusing multiply-adds,
	// so every platform rounds as Pillow's C does.
	if x < 1 {
		return float64(float64(float64(float64((a+2)*x)-(a+3))*x)*x) + 1
	}
	if x < 2 {
		return float64(float64(float64(float64(float64(x-5)*x)+8)*x)-4) * a
	}
	return 0
}

func (c *pilCoeffs) compute(inSize, outSize int) {
	if c.in == inSize && c.out == outSize && c.k != nil {
		return
	}
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := 2 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c.in, c.out, c.ksize = inSize, outSize, ksize
	c.bounds = make([]int, 2*outSize)
	c.k = make([]int32, outSize*ksize)
	w := make([]float64, ksize)
	ss := 1 / filterscale
	for xx := 0; xx < outSize; xx++ {
		center := float64(float64(xx)+0.5) * scale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w[x] = pilBicubic(float64(float64(x+xmin)-center+0.5) * ss)
			ww += w[x]
		}
		k := c.k[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<pilPrecisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<pilPrecisionBits))
			}
		}
		c.bounds[2*xx], c.bounds[2*xx+1] = xmin, xmax
	}
}

func pilClip8(v int32) uint8 {
	v >>= pilPrecisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resize returns img composited on white as packed 8-bit RGB of w×h pixels
// (the slice is p's until the next call).
func (p *pipeline) resize(img image.Image, w, h int) []uint8 {
	b := img.Bounds()
	inW, inH := b.Dx(), b.Dy()
	read := rowReader(img)
	needH, needV := w != inW, h != inH

	// Rows of the input the vertical pass reads (all of them when it keeps
	// the height): [yFirst, yLast).
	yFirst, yLast := 0, inH
	if needV {
		p.v.compute(inH, h)
		yFirst = p.v.bounds[0]
		yLast = p.v.bounds[2*h-2] + p.v.bounds[2*h-1]
	}
	rows := yLast - yFirst
	p.tmp = growPix(p.tmp, w*rows*3)
	if needH {
		p.h.compute(inW, w)
		p.row = growPix(p.row, inW*3)
		for y := 0; y < rows; y++ {
			read(yFirst+y, p.row)
			pilHorizontal(p.tmp[y*w*3:(y+1)*w*3], p.row, &p.h)
		}
	} else {
		for y := 0; y < rows; y++ {
			read(yFirst+y, p.tmp[y*w*3:(y+1)*w*3])
		}
	}
	if !needV {
		return p.tmp[:w*h*3]
	}
	p.out = growPix(p.out, w*h*3)
	pilVertical(p.out, p.tmp, w, yFirst, &p.v)
	return p.out[:w*h*3]
}

func growPix(b []uint8, n int) []uint8 {
	if cap(b) < n {
		return make([]uint8, n)
	}
	return b[:n]
}

func pilHorizontal(dst, src []uint8, c *pilCoeffs) {
	const half = 1 << (pilPrecisionBits - 1)
	for xx := 0; xx < c.out; xx++ {
		xmin, n := c.bounds[2*xx], c.bounds[2*xx+1]
		k := c.k[xx*c.ksize : xx*c.ksize+n]
		s := src[xmin*3 : (xmin+n)*3]
		ss0, ss1, ss2 := int32(half), int32(half), int32(half)
		for x, kv := range k {
			p := s[3*x : 3*x+3 : 3*x+3]
			ss0 += int32(p[0]) * kv
			ss1 += int32(p[1]) * kv
			ss2 += int32(p[2]) * kv
		}
		dst[3*xx], dst[3*xx+1], dst[3*xx+2] = pilClip8(ss0), pilClip8(ss1), pilClip8(ss2)
	}
}

// pilVertical resamples src (rows yFirst… of the input, w pixels wide) into
// dst, c.out rows.
func pilVertical(dst, src []uint8, w, yFirst int, c *pilCoeffs) {
	const half = 1 << (pilPrecisionBits - 1)
	stride := w * 3
	for yy := 0; yy < c.out; yy++ {
		ymin, n := c.bounds[2*yy]-yFirst, c.bounds[2*yy+1]
		k := c.k[yy*c.ksize : yy*c.ksize+n]
		d := dst[yy*stride : (yy+1)*stride]
		for i := 0; i < stride; i++ {
			ss := int32(half)
			for y, kv := range k {
				ss += int32(src[(ymin+y)*stride+i]) * kv
			}
			d[i] = pilClip8(ss)
		}
	}
}

// Alpha compositing on white, in 8 bits: a non-premultiplied value c of
// alpha a becomes round(c·a/255 + 255 − a), which is exactly what Pillow's
// Image.alpha_composite(white, img).convert("RGB") gives; a premultiplied
// value c becomes c + 255 − a exactly. 16-bit images are first reduced to
// their high bytes, as Pillow reads them.

func nrgbaOnWhite(c, a uint8) uint8 {
	return uint8((uint32(c)*uint32(a) + 255*(255-uint32(a)) + 127) / 255)
}

func rgbaOnWhite(c, a uint8) uint8 {
	return uint8(min(uint32(c)+255-uint32(a), 255))
}

// colorOnWhite composites one color on white.
func colorOnWhite(c color.Color) (r, g, b uint8) {
	switch c := c.(type) {
	case color.RGBA:
		return rgbaOnWhite(c.R, c.A), rgbaOnWhite(c.G, c.A), rgbaOnWhite(c.B, c.A)
	case color.Gray:
		return c.Y, c.Y, c.Y
	case color.YCbCr:
		return jpegRGB(c.Y, c.Cb, c.Cr)
	case color.NRGBA64:
		a := uint8(c.A >> 8)
		return nrgbaOnWhite(uint8(c.R>>8), a), nrgbaOnWhite(uint8(c.G>>8), a), nrgbaOnWhite(uint8(c.B>>8), a)
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return nrgbaOnWhite(n.R, n.A), nrgbaOnWhite(n.G, n.A), nrgbaOnWhite(n.B, n.A)
}

// rowReader returns a function filling dst (3·width bytes) with row y
// (0-based from the top of img's bounds) composited on white.
func rowReader(img image.Image) func(y int, dst []uint8) {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.NRGBA:
		return func(y int, dst []uint8) {
			s := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				p := s[4*x : 4*x+4]
				if a := p[3]; a == 255 {
					dst[3*x], dst[3*x+1], dst[3*x+2] = p[0], p[1], p[2]
				} else {
					dst[3*x], dst[3*x+1], dst[3*x+2] = nrgbaOnWhite(p[0], a), nrgbaOnWhite(p[1], a), nrgbaOnWhite(p[2], a)
				}
			}
		}
	case *image.RGBA:
		return func(y int, dst []uint8) {
			s := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				p := s[4*x : 4*x+4]
				a := p[3]
				dst[3*x], dst[3*x+1], dst[3*x+2] = rgbaOnWhite(p[0], a), rgbaOnWhite(p[1], a), rgbaOnWhite(p[2], a)
			}
		}
	case *image.NRGBA64:
		return func(y int, dst []uint8) {
			s := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				p := s[8*x : 8*x+8]
				a := p[6]
				dst[3*x], dst[3*x+1], dst[3*x+2] = nrgbaOnWhite(p[0], a), nrgbaOnWhite(p[2], a), nrgbaOnWhite(p[4], a)
			}
		}
	case *image.RGBA64:
		return func(y int, dst []uint8) {
			s := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				p := s[8*x : 8*x+8]
				a := p[6]
				dst[3*x], dst[3*x+1], dst[3*x+2] = rgbaOnWhite(p[0], a), rgbaOnWhite(p[2], a), rgbaOnWhite(p[4], a)
			}
		}
	case *image.Gray:
		return func(y int, dst []uint8) {
			s := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range s {
				dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
			}
		}
	case *image.Gray16:
		return func(y int, dst []uint8) {
			s := m.Pix[y*m.Stride : y*m.Stride+2*w]
			for x := 0; x < w; x++ {
				v := s[2*x]
				dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
			}
		}
	case *image.YCbCr:
		if r := jpegRowReader(m); r != nil {
			return r
		}
	case *image.NYCbCrA:
		return func(y int, dst []uint8) {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				ai := m.AOffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				a := m.A[ai]
				dst[3*x], dst[3*x+1], dst[3*x+2] = nrgbaOnWhite(r, a), nrgbaOnWhite(g, a), nrgbaOnWhite(bl, a)
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8 // indices past the palette stay black
		for i, c := range m.Palette {
			if i < 256 {
				lut[i][0], lut[i][1], lut[i][2] = colorOnWhite(c)
			}
		}
		return func(y int, dst []uint8) {
			s := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range s {
				copy(dst[3*x:3*x+3], lut[v][:])
			}
		}
	}
	return func(y int, dst []uint8) {
		for x := 0; x < w; x++ {
			dst[3*x], dst[3*x+1], dst[3*x+2] = colorOnWhite(img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
}

// JPEG decoding. Pillow decodes JPEG with libjpeg(-turbo), whose defaults
// differ from Go's image/jpeg after the IDCT: chroma subsampled 2:1
// horizontally (4:2:2) or in both directions (4:2:0, most photos) is
// upsampled with libjpeg's "fancy" triangle filter rather than repeated, and
// YCbCr becomes RGB with libjpeg's rounding. jpegRowReader reproduces both
// from the decoded planes of an image.YCbCr, so only the IDCT differs from
// Pillow's pixels (by a level or two at most, rarely).

// jpegColor holds libjpeg's YCbCr → RGB tables (jdcolor.c, 16-bit fixed
// point): Cr→R and Cb→B rounded to integers, Cb→G and Cr→G scaled.
var jpegColor = func() (t struct{ crR, cbB, crG, cbG [256]int32 }) {
	const half = 1 << 15
	for i := range 256 {
		x := int32(i - 128)
		t.crR[i] = (91881*x + half) >> 16  // FIX(1.40200)
		t.cbB[i] = (116130*x + half) >> 16 // FIX(1.77200)
		t.crG[i] = -46802 * x              // FIX(0.71414)
		t.cbG[i] = -22554*x + half         // FIX(0.34414), with the rounding
	}
	return t
}()

func jpegClamp(v int32) uint8 {
	return uint8(min(max(v, 0), 255))
}

// jpegRGB converts one pixel as libjpeg's ycc_rgb_convert does.
func jpegRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	Y := int32(y)
	return jpegClamp(Y + jpegColor.crR[cr]),
		jpegClamp(Y + (jpegColor.cbG[cb]+jpegColor.crG[cr])>>16),
		jpegClamp(Y + jpegColor.cbB[cb])
}

// jpegRowReader reads the rows of m as libjpeg would output them (see
// above). It returns nil for a sub-image (not at the origin), which the
// generic path reads.
func jpegRowReader(m *image.YCbCr) func(y int, dst []uint8) {
	b := m.Rect
	if b.Min != (image.Point{}) {
		return nil
	}
	w, h := b.Dx(), b.Dy()
	cw := (w + 1) / 2 // chroma columns of 4:2:0 and 4:2:2 (libjpeg's downsampled_width)
	ch := (h + 1) / 2 // chroma rows of 4:2:0
	cb, cr := make([]uint8, w), make([]uint8, w)
	emit := func(y int, dst []uint8) {
		for x, yv := range m.Y[y*m.YStride : y*m.YStride+w] {
			dst[3*x], dst[3*x+1], dst[3*x+2] = jpegRGB(yv, cb[x], cr[x])
		}
	}
	switch {
	case m.SubsampleRatio == image.YCbCrSubsampleRatio444:
		return func(y int, dst []uint8) {
			copy(cb, m.Cb[y*m.CStride:])
			copy(cr, m.Cr[y*m.CStride:])
			emit(y, dst)
		}
	case m.SubsampleRatio == image.YCbCrSubsampleRatio422 && cw >= 2:
		return func(y int, dst []uint8) {
			fancyH2V1(cb, m.Cb[y*m.CStride:y*m.CStride+cw])
			fancyH2V1(cr, m.Cr[y*m.CStride:y*m.CStride+cw])
			emit(y, dst)
		}
	case m.SubsampleRatio == image.YCbCrSubsampleRatio420 && cw >= 2:
		sums := make([]int32, cw)
		return func(y int, dst []uint8) {
			// The nearer chroma row and the next nearer, above for even
			// rows and below for odd ones, repeated at the image's edges.
			near := y / 2
			far := min(max(near+2*(y&1)-1, 0), ch-1)
			for _, p := range []struct {
				plane []uint8
				out   []uint8
			}{{m.Cb, cb}, {m.Cr, cr}} {
				r0 := p.plane[near*m.CStride : near*m.CStride+cw]
				r1 := p.plane[far*m.CStride : far*m.CStride+cw]
				for i := range sums {
					sums[i] = 3*int32(r0[i]) + int32(r1[i])
				}
				fancyH2V2(p.out, sums)
			}
			emit(y, dst)
		}
	}
	// Other subsamplings (rare): chroma repeated, as image.YCbCr.At does.
	return func(y int, dst []uint8) {
		for x := range w {
			ci := m.COffset(x, y)
			cb[x], cr[x] = m.Cb[ci], m.Cr[ci]
		}
		emit(y, dst)
	}
}

// fancyH2V1 doubles the width of one chroma row (libjpeg's
// h2v1_fancy_upsample): ¾ of the nearer sample and ¼ of the next, with
// alternating rounding; dst has the luma width (in's length 2 or more, and
// dst may be one shorter than 2·len(in)).
func fancyH2V1(dst, in []uint8) {
	n := len(in)
	for i, v := range in {
		v3 := 3 * int32(v)
		even, odd := int32(v), int32(v)
		if i > 0 {
			even = (v3 + int32(in[i-1]) + 1) >> 2
		}
		if i < n-1 {
			odd = (v3 + int32(in[i+1]) + 2) >> 2
		}
		dst[2*i] = uint8(even)
		if 2*i+1 < len(dst) {
			dst[2*i+1] = uint8(odd)
		}
	}
}

// fancyH2V2 is the horizontal half of libjpeg's h2v2_fancy_upsample, given
// the vertical sums 3·nearer + farther of each chroma column.
func fancyH2V2(dst []uint8, sums []int32) {
	n := len(sums)
	for i, s := range sums {
		s3 := 3 * s
		even, odd := (4*s+8)>>4, (4*s+7)>>4
		if i > 0 {
			even = (s3 + sums[i-1] + 8) >> 4
		}
		if i < n-1 {
			odd = (s3 + sums[i+1] + 7) >> 4
		}
		dst[2*i] = uint8(even)
		if 2*i+1 < len(dst) {
			dst[2*i+1] = uint8(odd)
		}
	}
}

// Lossy WebP. x/image/webp returns VP8's planes as an image.YCbCr, but
// VP8 samples are limited-range BT.601 (Y from 16 to 235), not JPEG's full
// range that image.YCbCr means (golang/go#40173): read as they are, colours
// come out washed out. webpToNRGBA converts them as libwebp, and so Pillow,
// does: its "fancy" bilinear chroma upsampling and its 14-bit fixed-point
// YUV → RGB, with the alpha plane (when there is one) kept apart.

// webpRGB is libwebp's VP8YUVToR/G/B.
func webpRGB(y, u, v int32) (uint8, uint8, uint8) {
	mulHi := func(v, c int32) int32 { return v * c >> 8 }
	clip := func(v int32) uint8 {
		if v&^((256<<6)-1) == 0 {
			return uint8(v >> 6)
		}
		if v < 0 {
			return 0
		}
		return 255
	}
	yy := mulHi(y, 19077)
	return clip(yy + mulHi(v, 26149) - 14234),
		clip(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708),
		clip(yy + mulHi(u, 33050) - 17685)
}

// webpToNRGBA converts a decoded lossy WebP (4:2:0 planes at the origin, as
// x/image/webp makes them) to RGB with libwebp's upsampler; a plane of
// another shape is returned unchanged. alpha, when not nil, is the alpha
// plane, astride its stride.
func webpToNRGBA(m *image.YCbCr, alpha []uint8, astride int) image.Image {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Rect.Min != (image.Point{}) {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	u, v := make([]int32, w), make([]int32, w)
	for y := range h {
		// Nearer chroma row and farther one, as for JPEG (see jpegRowReader).
		near := y / 2
		far := min(max(near+2*(y&1)-1, 0), ch-1)
		for _, p := range []struct {
			plane []uint8
			out   []int32
		}{{m.Cb, u}, {m.Cr, v}} {
			n := p.plane[near*m.CStride : near*m.CStride+cw]
			f := p.plane[far*m.CStride : far*m.CStride+cw]
			p.out[0] = (3*int32(n[0]) + int32(f[0]) + 2) >> 2
			for x := 1; x <= (w-1)>>1; x++ {
				n0, n1, f0, f1 := int32(n[x-1]), int32(n[x]), int32(f[x-1]), int32(f[x])
				avg := n0 + n1 + f0 + f1 + 8
				p.out[2*x-1] = ((avg+2*(n1+f0))>>3 + n0) >> 1
				p.out[2*x] = ((avg+2*(n0+f1))>>3 + n1) >> 1
			}
			if w&1 == 0 {
				p.out[w-1] = (3*int32(n[cw-1]) + int32(f[cw-1]) + 2) >> 2
			}
		}
		row := out.Pix[y*out.Stride : y*out.Stride+4*w]
		for x, yv := range m.Y[y*m.YStride : y*m.YStride+w] {
			p := row[4*x : 4*x+4]
			p[0], p[1], p[2] = webpRGB(int32(yv), u[x], v[x])
			p[3] = 255
			if alpha != nil {
				p[3] = alpha[y*astride+x]
			}
		}
	}
	return out
}

// Skipped is a file the Sampler could not use: it is never tried again.
type Skipped struct {
	Domain string `json:"domain"` // "A" or "B"
	Index  int    `json:"index"`  // index in the domain
	Name   string `json:"name"`   // the domain's Name(Index)
	Reason string `json:"reason"` // why it failed to open
}

// SamplerState is everything a Sampler remembers, for an exact resume. It is
// plain JSON. The rng is not in it: the caller owns it (a *rand.Rand over a
// *rand.PCG, whose MarshalBinary it saves alongside), and a resume is exact
// when the rng is restored to where it was when State was taken.
type SamplerState struct {
	LenA int `json:"len_a"`
	LenB int `json:"len_b"`
	// NamesA and NamesB fingerprint the domains' file names (FNV-1a 64).
	NamesA string `json:"names_a"`
	NamesB string `json:"names_b"`
	// Epoch is the 0-based epoch of the last sample; Pos how many entries
	// of Perm it has consumed; Perm the epoch's permutation, of
	// max(LenA, LenB) positions (nil before the first sample).
	Epoch   int       `json:"epoch"`
	Pos     int       `json:"pos"`
	Perm    []int     `json:"perm,omitempty"`
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Sampler draws training pairs as the reference's unaligned dataset does: an
// epoch is max(|A|, |B|) samples; position i of an epoch takes A image
// perm[i] mod |A|, perm a fresh rng.Perm(max(|A|, |B|)) each epoch (the
// DataLoader's shuffle), and a B image drawn uniformly at random,
// independently of A (rng.IntN(|B|)). Each image then goes through
// ImageToTensor with the sampler's Augment.
//
// Per sample, the rng is drawn in this order: the permutation when an epoch
// starts, A's crop and flip, B's index, B's crop and flip.
//
// A file that fails to open is recorded in Skipped, reported to OnSkip, and
// never tried again: A moves on to the next position of the permutation, B
// draws again. When every file of a domain has failed, Next returns an error
// wrapping ErrEmptyDomain.
//
// A Sampler is not safe for concurrent use.
type Sampler struct {
	// OnSkip, when set, is called once for each file as it is skipped.
	OnSkip func(Skipped)

	a, b     Domain
	aug      Augment
	rng      *rand.Rand
	perm     []int
	pos      int
	epoch    int
	skipped  []Skipped
	bad      [2]map[int]bool // by domain, the skipped indices
	lastA    int
	lastB    int
	pipeline pipeline
}

// NewSampler returns a sampler over domains a and b. It checks that both
// have files (ErrEmptyDomain), that aug is valid, and that rng is not nil.
// The sampler draws all its randomness from rng, which the caller owns.
func NewSampler(a, b Domain, aug Augment, rng *rand.Rand) (*Sampler, error) {
	for _, d := range []struct {
		name string
		d    Domain
	}{{"A", a}, {"B", b}} {
		if d.d == nil || d.d.Len() == 0 {
			return nil, fmt.Errorf("domain %s: no images: %w", domainLabel(d.name, d.d), ErrEmptyDomain)
		}
	}
	if err := aug.Validate(); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, errors.New("cyclegan: NewSampler needs an rng")
	}
	return &Sampler{a: a, b: b, aug: aug, rng: rng,
		bad: [2]map[int]bool{{}, {}}, lastA: -1, lastB: -1}, nil
}

func domainLabel(name string, d Domain) string {
	if s, ok := d.(fmt.Stringer); ok {
		return name + " (" + s.String() + ")"
	}
	return name
}

// EpochLen is the number of samples in an epoch: max(|A|, |B|).
func (s *Sampler) EpochLen() int { return max(s.a.Len(), s.b.Len()) }

// Epoch is the 0-based epoch of the last sample (0 before any).
func (s *Sampler) Epoch() int { return s.epoch }

// Pos is how many positions of the current epoch have been consumed,
// skipped files included; the epoch is over when Pos() == EpochLen().
func (s *Sampler) Pos() int { return s.pos }

// Last returns the indices of the A and B images of the last sample (−1
// before any).
func (s *Sampler) Last() (a, b int) { return s.lastA, s.lastB }

// Skipped lists the files skipped so far, in the order they failed.
func (s *Sampler) Skipped() []Skipped { return slices.Clone(s.skipped) }

// Next fills realA and realB, each of shape [1, 3, CropSize, CropSize], with
// the next training pair. Its only errors are a tensor of the wrong shape
// and a domain all of whose files are unreadable.
func (s *Sampler) Next(realA, realB *engine.Tensor) error {
	c := s.aug.CropSize
	for _, t := range []*engine.Tensor{realA, realB} {
		if t == nil || !slices.Equal(t.Shape, []int{1, 3, c, c}) || len(t.Data) != 3*c*c {
			return fmt.Errorf("cyclegan: Sampler.Next: tensor %v, want [1, 3, %d, %d]", t, c, c)
		}
	}
	imgA, err := s.nextA()
	if err != nil {
		return err
	}
	if err := s.pipeline.toTensor(imgA, s.aug, s.rng, realA); err != nil {
		return err
	}
	imgB, err := s.nextB()
	if err != nil {
		return err
	}
	return s.pipeline.toTensor(imgB, s.aug, s.rng, realB)
}

func (s *Sampler) nextA() (image.Image, error) {
	n := s.a.Len()
	for {
		if len(s.bad[0]) >= n {
			return nil, s.allBad("A", s.a)
		}
		switch {
		case s.perm == nil:
			s.perm, s.pos = s.rng.Perm(s.EpochLen()), 0
		case s.pos >= len(s.perm):
			s.perm, s.pos = s.rng.Perm(s.EpochLen()), 0
			s.epoch++
		}
		i := s.perm[s.pos] % n
		s.pos++
		if s.bad[0][i] {
			continue
		}
		img, err := s.a.Open(i)
		if err != nil {
			s.skip(0, s.a, i, err)
			continue
		}
		s.lastA = i
		return img, nil
	}
}

func (s *Sampler) nextB() (image.Image, error) {
	n := s.b.Len()
	for {
		if len(s.bad[1]) >= n {
			return nil, s.allBad("B", s.b)
		}
		i := s.rng.IntN(n)
		if s.bad[1][i] {
			continue
		}
		img, err := s.b.Open(i)
		if err != nil {
			s.skip(1, s.b, i, err)
			continue
		}
		s.lastB = i
		return img, nil
	}
}

func (s *Sampler) allBad(name string, d Domain) error {
	return fmt.Errorf("domain %s: all %d files unreadable: %w", domainLabel(name, d), d.Len(), ErrEmptyDomain)
}

func (s *Sampler) skip(dom int, d Domain, i int, err error) {
	reason := err.Error()
	var ie *ImageError
	if errors.As(err, &ie) {
		reason = ie.Err.Error()
	}
	sk := Skipped{Domain: "AB"[dom : dom+1], Index: i, Name: d.Name(i), Reason: reason}
	s.bad[dom][i] = true
	s.skipped = append(s.skipped, sk)
	if s.OnSkip != nil {
		s.OnSkip(sk)
	}
}

// domainFingerprint hashes a domain's names (FNV-1a 64, hex).
func domainFingerprint(d Domain) string {
	h := fnv.New64a()
	for i := 0; i < d.Len(); i++ {
		io.WriteString(h, d.Name(i))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// State returns a copy of the sampler's state (see SamplerState).
func (s *Sampler) State() SamplerState {
	return SamplerState{
		LenA: s.a.Len(), LenB: s.b.Len(),
		NamesA: domainFingerprint(s.a), NamesB: domainFingerprint(s.b),
		Epoch: s.epoch, Pos: s.pos,
		Perm:    slices.Clone(s.perm),
		Skipped: slices.Clone(s.skipped),
	}
}

// Restore puts the sampler back in state st, taken by State from a sampler
// over the same domains (else an error wrapping ErrStateMismatch, and the
// sampler is unchanged). With the caller's rng restored too, the samples
// that follow are exactly those that followed State. Skipped files are not
// retried.
func (s *Sampler) Restore(st SamplerState) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cyclegan: restoring sampler: %s: %w", fmt.Sprintf(format, args...), ErrStateMismatch)
	}
	if st.LenA != s.a.Len() || st.LenB != s.b.Len() {
		return bad("state is for %d A and %d B images, the domains have %d and %d", st.LenA, st.LenB, s.a.Len(), s.b.Len())
	}
	if st.NamesA != domainFingerprint(s.a) || st.NamesB != domainFingerprint(s.b) {
		return bad("the domains' file names differ from the state's")
	}
	n := s.EpochLen()
	if st.Epoch < 0 {
		return bad("epoch %d", st.Epoch)
	}
	if st.Perm == nil {
		if st.Pos != 0 || st.Epoch != 0 {
			return bad("no permutation at epoch %d position %d", st.Epoch, st.Pos)
		}
	} else {
		if len(st.Perm) != n || st.Pos < 0 || st.Pos > n {
			return bad("permutation of %d at position %d, epochs have %d samples", len(st.Perm), st.Pos, n)
		}
		seen := make([]bool, n)
		for _, v := range st.Perm {
			if v < 0 || v >= n || seen[v] {
				return bad("perm is not a permutation of 0…%d", n-1)
			}
			seen[v] = true
		}
	}
	badIdx := [2]map[int]bool{{}, {}}
	for _, sk := range st.Skipped {
		dom := strings.Index("AB", sk.Domain)
		if len(sk.Domain) != 1 || dom < 0 {
			return bad("skipped file of domain %q", sk.Domain)
		}
		if l := []int{st.LenA, st.LenB}[dom]; sk.Index < 0 || sk.Index >= l {
			return bad("skipped index %d out of range", sk.Index)
		}
		badIdx[dom][sk.Index] = true
	}
	s.epoch, s.pos = st.Epoch, st.Pos
	s.perm = slices.Clone(st.Perm)
	s.skipped = slices.Clone(st.Skipped)
	s.bad = badIdx
	s.lastA, s.lastB = -1, -1
	return nil
}
