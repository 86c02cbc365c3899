package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal returns the safetensors encoding of tensors and metadata, the
// bytes Encode writes.
func Marshal(tensors map[string]Tensor, metadata map[string]string) ([]byte, error) {
	names, header, total, err := prepare(tensors, metadata)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(header)+total)
	out = append(out, header...)
	for _, name := range names {
		out = append(out, tensors[name].Data...)
	}
	return out, nil
}

// Encode writes tensors and metadata to w as a safetensors file. It checks
// everything before writing anything, so invalid input writes no bytes.
//
// Each tensor must have a known dtype (ErrDType), non-negative dimensions
// and exactly the Data its shape needs (ErrShape); names and metadata must
// be valid UTF-8 and no tensor may be named "__metadata__"
// (ErrMalformedHeader).
//
// The output is deterministic: the header is compact JSON, with
// "__metadata__" first (its keys sorted; omitted when metadata is empty),
// then the tensors sorted by name, each as
// {"dtype":…,"shape":[…],"data_offsets":[begin,end]}; strings are escaped
// only where JSON requires it. The header is padded with spaces to a
// multiple of 8 bytes and must not exceed DefaultMaxHeaderSize
// (ErrHeaderTooLarge). The tensors' data follows in the same name order,
// with no gaps, so every tensor begins at an 8-byte-aligned file offset.
// Errors of w are returned wrapped, not as a sentinel.
func Encode(w io.Writer, tensors map[string]Tensor, metadata map[string]string) error {
	names, header, _, err := prepare(tensors, metadata)
	if err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: writing: %w", err)
	}
	for _, name := range names {
		if data := tensors[name].Data; len(data) > 0 {
			if _, err := w.Write(data); err != nil {
				return fmt.Errorf("safetensors: writing tensor %q: %w", name, err)
			}
		}
	}
	return nil
}

// prepare checks the input and returns the tensor names in file order, the
// 8-byte length prefix followed by the padded header, and the total size
// of the data buffer.
func prepare(tensors map[string]Tensor, metadata map[string]string) (names []string, header []byte, total int, err error) {
	names = make([]string, 0, len(tensors))
	for name, t := range tensors {
		if name == "__metadata__" {
			return nil, nil, 0, fmt.Errorf("safetensors: tensor name \"__metadata__\" is reserved: %w", ErrMalformedHeader)
		}
		if !utf8.ValidString(name) {
			return nil, nil, 0, fmt.Errorf("safetensors: tensor name %q is not valid UTF-8: %w", name, ErrMalformedHeader)
		}
		if err := t.check(); err != nil {
			return nil, nil, 0, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		names = append(names, name)
	}
	slices.Sort(names)

	keys := make([]string, 0, len(metadata))
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, 0, fmt.Errorf("safetensors: __metadata__ entry %q: not valid UTF-8: %w", k, ErrMalformedHeader)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)

	h := make([]byte, 8, 64)
	h = append(h, '{')
	if len(keys) > 0 {
		h = append(h, `"__metadata__":{`...)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendString(h, k)
			h = append(h, ':')
			h = appendString(h, metadata[k])
		}
		h = append(h, '}')
	}
	for i, name := range names {
		t := tensors[name]
		if i > 0 || len(keys) > 0 {
			h = append(h, ',')
		}
		h = appendString(h, name)
		h = append(h, `:{"dtype":`...)
		h = appendString(h, t.DType)
		h = append(h, `,"shape":[`...)
		for j, dim := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(dim), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, int64(total), 10)
		h = append(h, ',')
		total += len(t.Data)
		h = strconv.AppendInt(h, int64(total), 10)
		h = append(h, "]}"...)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	n := len(h) - 8
	if n > DefaultMaxHeaderSize {
		return nil, nil, 0, fmt.Errorf("safetensors: header of %d bytes exceeds the limit of %d bytes: %w",
			n, DefaultMaxHeaderSize, ErrHeaderTooLarge)
	}
	binary.LittleEndian.PutUint64(h, uint64(n))
	return names, h, total, nil
}

// appendString appends s, which must be valid UTF-8, as a JSON string,
// escaping only what JSON requires: the quote, the backslash and the
// control characters below U+0020.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
