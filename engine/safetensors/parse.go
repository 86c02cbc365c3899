package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultMaxHeaderSize is the header size limit, in bytes, of a zero
// Parser: 100 MB, the limit of the reference implementation. Encode and
// Marshal refuse to write a larger header.
const DefaultMaxHeaderSize = 100_000_000

// File is the content of a safetensors file: its tensors by name and its
// optional string-to-string metadata (the header's "__metadata__" entry).
// Parse always returns non-nil maps, empty when the file has no tensors or
// no metadata.
type File struct {
	Metadata map[string]string
	Tensors  map[string]Tensor
}

// Names returns the names of f's tensors sorted bytewise (as slices.Sort
// sorts strings), which is also the order in which Encode lays them out.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for name := range f.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Parser parses safetensors files with a configurable header size limit.
// The zero Parser is ready to use and applies DefaultMaxHeaderSize.
type Parser struct {
	// MaxHeaderSize is the largest header length, in bytes, the parser
	// accepts; a larger declared length fails with ErrHeaderTooLarge before
	// anything else is read or allocated. Zero or negative means
	// DefaultMaxHeaderSize. A web upload handler would set it far lower.
	MaxHeaderSize int64
}

// Parse parses b with a zero Parser; see Parser.Parse.
func Parse(b []byte) (*File, error) { return Parser{}.Parse(b) }

// Read reads and parses a whole file from r with a zero Parser; see
// Parser.Read.
func Read(r io.Reader) (*File, error) { return Parser{}.Read(r) }

// ReadFile reads and parses the named file with a zero Parser; see
// Parser.ReadFile.
func ReadFile(path string) (*File, error) { return Parser{}.ReadFile(path) }

// ReadFile reads the named file and parses it as Parse does.
func (p Parser) ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return p.Parse(b)
}

// Read reads r to its end and parses what it read as Parse does. It reads
// the 8-byte header length first and fails with ErrTruncated or
// ErrHeaderTooLarge before reading further if that is already wrong.
// Otherwise it holds the whole input in memory, growing its buffer as data
// arrives (never to a size the input claims): bound untrusted input
// yourself, for example with io.LimitReader or http.MaxBytesReader. Errors
// of r itself are returned wrapped, not as a sentinel.
func (p Parser) Read(r io.Reader) (*File, error) {
	var prefix [8]byte
	if n, err := io.ReadFull(r, prefix[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errShort(n)
		}
		return nil, fmt.Errorf("safetensors: reading: %w", err)
	}
	if n := binary.LittleEndian.Uint64(prefix[:]); n > p.maxHeader() {
		return nil, p.errTooLarge(n)
	}
	var buf bytes.Buffer
	buf.Write(prefix[:])
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("safetensors: reading: %w", err)
	}
	return p.Parse(buf.Bytes())
}

// Parse parses a whole safetensors file held in b. The tensors' Data
// slices point into b (with their capacity capped at their length), so b
// must not be modified while they are in use.
//
// Parse enforces, in this order, and returns an error wrapping the
// sentinel shown:
//   - b holds the 8-byte header length N and then at least N bytes
//     (ErrTruncated), and N is at most MaxHeaderSize (ErrHeaderTooLarge,
//     checked first);
//   - the header is valid UTF-8, starts with '{' and is exactly one JSON
//     object, optionally followed by whitespace such as padding spaces
//     (ErrMalformedHeader);
//   - no key repeats in any object of the header (ErrDuplicate);
//   - "__metadata__", if present, is an object of strings
//     (ErrMalformedHeader);
//   - every other key names a tensor whose value is an object with exactly
//     the fields "dtype" (a string), "shape" (an array of integers) and
//     "data_offsets" (an array of two integers), and no other field
//     (ErrMalformedHeader); integers written with a fraction or an
//     exponent, such as 1.0 or 1e3, are malformed too;
//   - dimensions are not negative (ErrShape) and offsets are not negative
//     (ErrOffsets);
//   - the dtype is known, see DTypeSize (ErrDType);
//   - the shape's byte size does not overflow an int (ErrShape); an empty
//     shape is a scalar of one element;
//   - data_offsets [begin, end] are relative to the data buffer (what
//     follows the header), begin <= end <= the buffer's length, and
//     end-begin is exactly the shape's element count times the dtype size
//     (ErrOffsets);
//   - sorted by offsets, the tensors are contiguous, start at 0 and end at
//     the buffer's end: no overlap, no hole, no trailing bytes
//     (ErrOffsets). Tensors of zero bytes may share an offset.
//
// The entries are checked in header order, so the error reported for a
// file with several problems is deterministic.
func (p Parser) Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, errShort(len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > p.maxHeader() {
		return nil, p.errTooLarge(n)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d bytes that follow it: %w",
			n, len(b)-8, ErrTruncated)
	}
	header, data := b[8:8+n], b[8+n:]

	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkEntries(entries, uint64(len(data))); err != nil {
		return nil, err
	}

	f := &File{Metadata: meta, Tensors: make(map[string]Tensor, len(entries))}
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	for _, e := range entries {
		f.Tensors[e.name] = Tensor{DType: e.dtype, Shape: e.shape, Data: data[e.begin:e.end:e.end]}
	}
	return f, nil
}

func (p Parser) maxHeader() uint64 {
	if p.MaxHeaderSize <= 0 {
		return DefaultMaxHeaderSize
	}
	return uint64(p.MaxHeaderSize)
}

func (p Parser) errTooLarge(n uint64) error {
	return fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes: %w",
		n, p.maxHeader(), ErrHeaderTooLarge)
}

func errShort(n int) error {
	return fmt.Errorf("safetensors: %d bytes, shorter than the 8-byte header length: %w", n, ErrTruncated)
}

// entry is one tensor entry of a header, as parsed.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64
}

// checkEntries checks the entries, in header order, against each other and
// against the length of the data buffer.
func checkEntries(entries []entry, bufLen uint64) error {
	for _, e := range entries {
		size, ok := dtypeSizes[e.dtype]
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: dtype %q: %w", e.name, e.dtype, ErrDType)
		}
		need, ok := byteSize(e.shape, size)
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: shape %v of %s overflows: %w", e.name, e.shape, e.dtype, ErrShape)
		}
		switch {
		case e.begin > e.end:
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] are reversed: %w",
				e.name, e.begin, e.end, ErrOffsets)
		case e.end > bufLen:
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] exceed the %d-byte data buffer: %w",
				e.name, e.begin, e.end, bufLen, ErrOffsets)
		case e.end-e.begin != need:
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] hold %d bytes, shape %v of %s needs %d: %w",
				e.name, e.begin, e.end, e.end-e.begin, e.shape, e.dtype, need, ErrOffsets)
		}
	}

	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	var pos uint64
	prev := ""
	for _, e := range sorted {
		switch {
		case e.begin < pos:
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] overlap tensor %q, which ends at %d: %w",
				e.name, e.begin, e.end, prev, pos, ErrOffsets)
		case e.begin > pos:
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] leave bytes [%d %d] of the data buffer to no tensor: %w",
				e.name, e.begin, e.end, pos, e.begin, ErrOffsets)
		}
		pos, prev = e.end, e.name
	}
	if pos != bufLen {
		return fmt.Errorf("safetensors: the %d-byte data buffer has %d bytes after the last tensor: %w",
			bufLen, bufLen-pos, ErrOffsets)
	}
	return nil
}

// parseHeader parses the JSON header, streaming its tokens so that
// duplicate keys, which encoding/json would silently merge, are seen.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, fmt.Errorf("safetensors: header is not valid UTF-8: %w", ErrMalformedHeader)
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, fmt.Errorf("safetensors: header does not start with '{': %w", ErrMalformedHeader)
	}
	d := &decoder{json.NewDecoder(bytes.NewReader(header))}
	d.dec.UseNumber()

	if err := d.delim('{', "header"); err != nil {
		return nil, nil, err
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = map[string]bool{}
	)
	for d.dec.More() {
		key, err := d.str("header")
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			what := "tensor name"
			if key == "__metadata__" {
				what = "key"
			}
			return nil, nil, fmt.Errorf("safetensors: header: %s %q appears twice: %w", what, key, ErrDuplicate)
		}
		seen[key] = true
		if key == "__metadata__" {
			if meta, err = d.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := d.entry(key)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if err := d.delim('}', "header"); err != nil {
		return nil, nil, err
	}
	if tok, err := d.dec.Token(); err != io.EOF {
		what := fmt.Sprintf("%v", tok)
		if err != nil {
			what = err.Error()
		}
		return nil, nil, fmt.Errorf("safetensors: header: unexpected data after the JSON object (%s): %w",
			what, ErrMalformedHeader)
	}
	return entries, meta, nil
}

// decoder wraps a token-streaming json.Decoder with the few reads the
// header grammar needs, each turning any problem into a wrapped sentinel.
type decoder struct {
	dec *json.Decoder
}

// token returns the next token; where says what is being read, for errors.
func (d *decoder) token(where string) (json.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("safetensors: %s: %v: %w", where, err, ErrMalformedHeader)
	}
	return tok, nil
}

// delim reads the delimiter want.
func (d *decoder) delim(want json.Delim, where string) error {
	tok, err := d.token(where)
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("safetensors: %s: found %s where %q was expected: %w", where, describe(tok), want, ErrMalformedHeader)
	}
	return nil
}

// str reads a JSON string.
func (d *decoder) str(where string) (string, error) {
	tok, err := d.token(where)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("safetensors: %s: found %s where a string was expected: %w", where, describe(tok), ErrMalformedHeader)
	}
	return s, nil
}

// metadata reads the value of "__metadata__": an object of strings.
func (d *decoder) metadata() (map[string]string, error) {
	const where = "__metadata__"
	if err := d.delim('{', where); err != nil {
		return nil, err
	}
	meta := map[string]string{}
	for d.dec.More() {
		k, err := d.str(where)
		if err != nil {
			return nil, err
		}
		v, err := d.str(fmt.Sprintf("__metadata__ key %q", k))
		if err != nil {
			return nil, err
		}
		if _, dup := meta[k]; dup {
			return nil, fmt.Errorf("safetensors: __metadata__: key %q appears twice: %w", k, ErrDuplicate)
		}
		meta[k] = v
	}
	return meta, d.delim('}', where)
}

// entry reads the value of the tensor entry name.
func (d *decoder) entry(name string) (entry, error) {
	e := entry{name: name}
	where := fmt.Sprintf("tensor %q", name)
	if err := d.delim('{', where); err != nil {
		return e, err
	}
	var haveDType, haveShape, haveOffsets bool
	for d.dec.More() {
		field, err := d.str(where)
		if err != nil {
			return e, err
		}
		var dup bool
		fieldWhere := where + " field " + field
		switch field {
		case "dtype":
			dup, haveDType = haveDType, true
			if !dup {
				e.dtype, err = d.str(fieldWhere)
			}
		case "shape":
			dup, haveShape = haveShape, true
			if !dup {
				e.shape, err = d.shape(fieldWhere)
			}
		case "data_offsets":
			dup, haveOffsets = haveOffsets, true
			if !dup {
				e.begin, e.end, err = d.offsets(fieldWhere)
			}
		default:
			return e, fmt.Errorf("safetensors: %s: unknown field %q: %w", where, field, ErrMalformedHeader)
		}
		if dup {
			return e, fmt.Errorf("safetensors: %s: field %q appears twice: %w", where, field, ErrDuplicate)
		}
		if err != nil {
			return e, err
		}
	}
	if err := d.delim('}', where); err != nil {
		return e, err
	}
	for _, f := range []struct {
		have bool
		name string
	}{{haveDType, "dtype"}, {haveShape, "shape"}, {haveOffsets, "data_offsets"}} {
		if !f.have {
			return e, fmt.Errorf("safetensors: %s: missing field %q: %w", where, f.name, ErrMalformedHeader)
		}
	}
	return e, nil
}

// shape reads an array of non-negative integers that fit in an int.
func (d *decoder) shape(where string) ([]int, error) {
	if err := d.delim('[', where); err != nil {
		return nil, err
	}
	shape := []int{}
	for d.dec.More() {
		text, v, neg, big, err := d.integer(where)
		switch {
		case err != nil:
			return nil, err
		case neg:
			return nil, fmt.Errorf("safetensors: %s: negative dimension %s: %w", where, text, ErrShape)
		case big || v > math.MaxInt:
			return nil, fmt.Errorf("safetensors: %s: dimension %s is too large: %w", where, text, ErrShape)
		}
		shape = append(shape, int(v))
	}
	return shape, d.delim(']', where)
}

// offsets reads an array of exactly two non-negative integers.
func (d *decoder) offsets(where string) (begin, end uint64, err error) {
	if err := d.delim('[', where); err != nil {
		return 0, 0, err
	}
	var off []uint64
	for d.dec.More() {
		if len(off) == 2 {
			return 0, 0, fmt.Errorf("safetensors: %s: more than two offsets: %w", where, ErrMalformedHeader)
		}
		text, v, neg, big, err := d.integer(where)
		switch {
		case err != nil:
			return 0, 0, err
		case neg:
			return 0, 0, fmt.Errorf("safetensors: %s: negative offset %s: %w", where, text, ErrOffsets)
		case big:
			return 0, 0, fmt.Errorf("safetensors: %s: offset %s is beyond 2^64-1: %w", where, text, ErrOffsets)
		}
		off = append(off, v)
	}
	if len(off) != 2 {
		return 0, 0, fmt.Errorf("safetensors: %s: %d offsets, want 2: %w", where, len(off), ErrMalformedHeader)
	}
	return off[0], off[1], d.delim(']', where)
}

// integer reads a JSON number written as an integer (no fraction, no
// exponent) and returns its text and value. A number below zero (-0 is
// zero) or above the uint64 range is not an error here, but reported
// through neg or big with v undefined, so that the caller can choose the
// sentinel.
func (d *decoder) integer(where string) (text string, v uint64, neg, big bool, err error) {
	tok, err := d.token(where)
	if err != nil {
		return "", 0, false, false, err
	}
	num, ok := tok.(json.Number)
	if !ok {
		return "", 0, false, false, fmt.Errorf("safetensors: %s: found %s where an integer was expected: %w",
			where, describe(tok), ErrMalformedHeader)
	}
	s := string(num)
	if strings.ContainsAny(s, ".eE") {
		return s, 0, false, false, fmt.Errorf("safetensors: %s: %s is not written as an integer: %w",
			where, s, ErrMalformedHeader)
	}
	if digits, ok := strings.CutPrefix(s, "-"); ok {
		return s, 0, strings.Trim(digits, "0") != "", false, nil
	}
	v, err = strconv.ParseUint(s, 10, 64)
	if err != nil { // json.Number is valid digits here, so only the range can fail
		return s, 0, false, true, nil
	}
	return s, v, false, false, nil
}

// describe names a JSON token for error messages.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return "string " + strconv.Quote(t)
	case json.Number:
		return "number " + string(t)
	case bool:
		return fmt.Sprintf("%t", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
