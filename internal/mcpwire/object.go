package mcpwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrDuplicateMember is a JSON object naming a member twice, or two members
// equal under Unicode simple case folding: decoders disagree on which wins.
var ErrDuplicateMember = errors.New("duplicate member")

// Object returns the members of the JSON object raw, refusing duplicate
// member names, names equal under Unicode case folding, and names that fold
// like one of known without being spelled like it (so that no lenient
// decoder reads a value this package did not). raw must be valid JSON (a
// slice of a body that [ParseBody] accepted, or checked with json.Valid);
// the scan is bounds-checked anyway.
func Object(raw json.RawMessage, known ...string) (map[string]json.RawMessage, error) {
	i := skipSpace(raw, 0)
	if at(raw, i) != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := make(map[string]json.RawMessage, 8)
	folded := make(map[string]struct{}, 8)
	for i = skipSpace(raw, i+1); at(raw, i) != '}'; {
		if at(raw, i) != '"' {
			return nil, errors.New("malformed object")
		}
		end := stringEnd(raw, i)
		key, err := decodeString(raw[i:end])
		if err != nil {
			return nil, err
		}
		if i = skipSpace(raw, end); at(raw, i) != ':' {
			return nil, errors.New("malformed object")
		}
		i = skipSpace(raw, i+1)
		vEnd := valueEnd(raw, i)
		if vEnd <= i {
			return nil, errors.New("malformed object")
		}
		f := fold(key)
		if _, dup := folded[f]; dup {
			return nil, fmt.Errorf("%w %q", ErrDuplicateMember, key)
		}
		folded[f] = struct{}{}
		for _, k := range known { // EqualFold is fold equality, without allocating
			if k != key && strings.EqualFold(k, key) {
				return nil, fmt.Errorf("member %q must be spelled %q", key, k)
			}
		}
		out[key] = raw[i:vEnd]
		if i = skipSpace(raw, vEnd); at(raw, i) == ',' {
			i = skipSpace(raw, i+1)
		} else if at(raw, i) != '}' {
			return nil, errors.New("malformed object")
		}
	}
	return out, nil
}

// String decodes raw as a JSON string; ok is false for anything else.
func String(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if at(raw, 0) != '"' {
		return "", false
	}
	s, err := decodeString(raw)
	return s, err == nil
}

// Marshal encodes v as JSON without HTML escaping and without a trailing
// newline (JSON-RPC peers do not need <, > and & escaped, and escaping
// would change bytes a filter forwards).
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("mcpwire: marshal: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func at(b []byte, i int) byte {
	if i < 0 || i >= len(b) {
		return 0
	}
	return b[i]
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch at(b, i) {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[j])) {
		j++
	}
	return j
}

// decodeString decodes a quoted JSON string.
func decodeString(q []byte) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", errors.New("malformed string")
	}
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1]), nil
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", fmt.Errorf("string: %w", err)
	}
	return s, nil
}

// fold maps s to a canonical case-folded form: each rune becomes the least
// rune of its Unicode simple-folding orbit (K, k and the Kelvin sign, or s,
// S and ſ, fold alike, as bytes.EqualFold and encoding/json see them). For
// ASCII that is the upper-case letter.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii {
		return strings.ToUpper(s)
	}
	b := make([]rune, 0, len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b = append(b, m)
	}
	return string(b)
}
