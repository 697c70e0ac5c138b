package authn

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// segmentEncoding is unpadded base64url (RFC 7515 §2) rejecting non-zero
// trailing bits, so every byte string has one encoding.
var segmentEncoding = base64.RawURLEncoding.Strict()

// decodeSegment decodes one compact-serialization segment: unpadded
// base64url (RFC 7515 §2, §3.1) with nothing but the 64 alphabet
// characters. Padding, "+", "/", whitespace and line breaks are rejected
// (Go's decoder would silently skip CR and LF, so they are refused first;
// it rejects every other byte outside the alphabet itself); non-zero
// trailing bits are rejected, so every byte string has one encoding.
func decodeSegment(s string) ([]byte, error) {
	return decodeSegmentTo(make([]byte, 0, segmentEncoding.DecodedLen(len(s))), s)
}

// decodeSegmentTo is decodeSegment decoding into the spare capacity of
// dst, which must hold segmentEncoding.DecodedLen(len(s)) bytes; it
// returns dst extended by the decoded bytes.
func decodeSegmentTo(dst []byte, s string) ([]byte, error) {
	if strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, '\n') >= 0 {
		return nil, errors.New("not base64url")
	}
	n, err := segmentEncoding.Decode(dst[len(dst):cap(dst)], stringBytes(s))
	if err != nil {
		return nil, errors.New("not base64url")
	}
	return dst[:len(dst)+n], nil
}

// decodeObject parses data as exactly one JSON object and returns its
// members, for Principal.Claims (verification itself reads header and
// payload with objReader, which accepts exactly the same inputs; see
// TestObjReaderMatchesDecodeObject and FuzzDecoderEquivalence). Numbers are kept as json.Number. It rejects invalid UTF-8,
// anything that is not an object (arrays, strings such as a nested JWT),
// trailing data, and duplicate member names at the top level (RFC 7515
// §5.2 step 4 and RFC 7519 §7.2 step 4 allow rejecting them; the "last one
// wins" alternative lets a token mean different things to different
// parsers). Duplicates inside nested values are not checked.
func decodeObject(data []byte) (map[string]any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	obj := make(map[string]any, 16)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("not JSON")
		}
		if _, dup := obj[name]; dup {
			return nil, errors.New("duplicate member " + quoteName(name))
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not JSON")
		}
		obj[name] = v
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, errors.New("not JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON object")
	}
	return obj, nil
}

// quoteName quotes a member name for an error, truncated so that a hostile
// token cannot put much text into logs or responses.
func quoteName(name string) string {
	const maxLen = 32
	if len(name) > maxLen {
		name = name[:maxLen] + "..."
	}
	b, _ := json.Marshal(name)
	return string(b)
}
