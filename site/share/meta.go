package share

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Meta describes a shared model: what the list and the info endpoint
// answer.
type Meta struct {
	// ID names the model in URLs: 22 characters of URL-safe base64 (128
	// random bits).
	ID string `json:"id"`
	// Name is the uploader's title for the model.
	Name string `json:"name"`
	// DomainA and DomainB name the two image domains; the generator
	// translates A → B.
	DomainA string `json:"domainA"`
	DomainB string `json:"domainB"`
	// Resolution is the side, in pixels, of the images it was trained on
	// (0 when unknown).
	Resolution int `json:"resolution"`
	// NGF and Blocks are the generator's width and number of residual
	// blocks, read from the file's tensor shapes.
	NGF    int `json:"ngf"`
	Blocks int `json:"blocks"`
	// Iterations is the number of training iterations (0 when unknown).
	Iterations int `json:"iterations"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
	// Date is the upload time in milliseconds since the Unix epoch.
	Date int64 `json:"date"`
}

// Record is what a Store keeps beside a model's file: its Meta and the
// hex SHA-256 of its delete token (never the token itself).
type Record struct {
	Meta      Meta   `json:"meta"`
	TokenHash string `json:"tokenHash"`
}

// Limits on the upload's text fields, in bytes of UTF-8, and on its
// numbers.
const (
	MaxNameLen      = 100
	MaxDomainLen    = 40
	MaxResolution   = 4096
	MaxIterations   = 1_000_000_000
	idBytes         = 16 // 128 bits
	tokenBytes      = 32 // 256 bits
	defaultName     = "Untitled model"
	defaultDomainA  = "A"
	defaultDomainB  = "B"
	idEncodedLength = 22 // base64.RawURLEncoding of idBytes
)

// newSecret returns n random bytes from r in URL-safe base64 without
// padding.
func newSecret(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashToken is the hex SHA-256 of a delete token, the form a Store keeps.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tokenMatches reports whether token hashes to want, in time that does not
// depend on where the two differ.
func tokenMatches(token, want string) bool {
	got := hashToken(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// ValidID reports whether id has the form of a model id (22 characters of
// the URL-safe base64 alphabet). Stores may rely on it: a valid id is a
// safe file name and key segment.
func ValidID(id string) bool {
	if len(id) != idEncodedLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// uploadFields are the query fields of an upload; zero numbers mean
// "not given".
type uploadFields struct {
	name, domainA, domainB string
	resolution, iterations int
}

// parseUploadFields reads and checks the optional query fields of an
// upload. The error says which field is wrong and why.
func parseUploadFields(q url.Values) (uploadFields, error) {
	var f uploadFields
	var err error
	text := func(key string, max int, def string) string {
		if err != nil {
			return ""
		}
		v := strings.TrimSpace(q.Get(key))
		switch {
		case !utf8.ValidString(v):
			err = fmt.Errorf("%s is not valid UTF-8", key)
		case len(v) > max:
			err = fmt.Errorf("%s is %d bytes long, at most %d allowed", key, len(v), max)
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			err = fmt.Errorf("%s contains a control character", key)
		case v == "":
			return def
		}
		return v
	}
	number := func(key string, max int) int {
		v := q.Get(key)
		if err != nil || v == "" {
			return 0
		}
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 0 || n > max {
			err = fmt.Errorf("%s %q: want a whole number from 0 to %d", key, v, max)
			return 0
		}
		return n
	}
	f.name = text("name", MaxNameLen, defaultName)
	f.domainA = text("domainA", MaxDomainLen, defaultDomainA)
	f.domainB = text("domainB", MaxDomainLen, defaultDomainB)
	f.resolution = number("resolution", MaxResolution)
	f.iterations = number("iterations", MaxIterations)
	return f, err
}
