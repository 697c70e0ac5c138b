package authn

import (
	"errors"
	"unicode/utf8"
)

// maxNestingDepth caps how deeply a member value may nest arrays and
// objects: the same cap as encoding/json (10000 levels below the member),
// so this scanner and decodeObject refuse exactly the same inputs.
const maxNestingDepth = 10000

// Errors of the scanner. Every one makes a token ReasonMalformed; their
// text matches decodeObject's.
var (
	errNotJSON   = errors.New("not JSON")
	errNotObject = errors.New("not a JSON object")
	errTrailing  = errors.New("trailing data after JSON object")
	errNotUTF8   = errors.New("not UTF-8")
)

// jval is the raw text of one validated JSON value (RFC 8259 §3), without
// surrounding whitespace. Its first byte tells its type.
type jval []byte

// isString, isNumber, isArray and isNull report the value's JSON type.
func (v jval) isString() bool { return len(v) > 0 && v[0] == '"' }
func (v jval) isNumber() bool { return len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') }
func (v jval) isArray() bool  { return len(v) > 0 && v[0] == '[' }
func (v jval) isNull() bool   { return len(v) > 0 && v[0] == 'n' }

// str returns the decoded text of a string value (RFC 8259 §7), as
// encoding/json decodes it: a lone or unpaired UTF-16 surrogate escape
// becomes U+FFFD. It aliases v when there is no escape. v must be a
// validated string value.
func (v jval) str() []byte {
	s := v[1 : len(v)-1]
	for _, c := range s {
		if c == '\\' {
			return unescape(s)
		}
	}
	return s
}

// isWS reports JSON insignificant whitespace (RFC 8259 §2).
func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(d []byte, i int) int {
	for i < len(d) && isWS(d[i]) {
		i++
	}
	return i
}

// objReader reads the top-level members of one JSON object in a single
// pass, validating every byte: RFC 8259 grammar, UTF-8 inside strings
// (§8.1; outside strings only ASCII is valid anyway), escapes, numbers,
// nesting up to maxNestingDepth, and nothing but whitespace after the
// closing brace. It does not check duplicate names: callers do, on decoded
// names.
type objReader struct {
	d    []byte
	i    int
	done bool
}

// next returns the next member: its raw name (without quotes, escaped as
// in the input; esc tells whether it contains escapes) and its value. ok
// is false after the closing brace, once the trailing bytes were checked.
func (r *objReader) next() (name []byte, esc bool, val jval, ok bool, err error) {
	d := r.d
	i := skipWS(d, r.i)
	if i >= len(d) {
		return nil, false, nil, false, errNotJSON
	}
	switch {
	case r.i == 0 && !r.done:
		r.done = true // past the opening brace
		if d[i] != '{' {
			if _, err := scanValue(d, i); err != nil {
				return nil, false, nil, false, errNotJSON
			}
			return nil, false, nil, false, errNotObject
		}
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == '}' {
			return nil, false, nil, false, r.end(i + 1)
		}
	case d[i] == ',':
		i = skipWS(d, i+1)
	case d[i] == '}':
		return nil, false, nil, false, r.end(i + 1)
	default:
		return nil, false, nil, false, errNotJSON
	}
	if i >= len(d) || d[i] != '"' {
		return nil, false, nil, false, errNotJSON
	}
	end, esc, err := scanString(d, i)
	if err != nil {
		return nil, false, nil, false, err
	}
	name = d[i+1 : end-1]
	i = skipWS(d, end)
	if i >= len(d) || d[i] != ':' {
		return nil, false, nil, false, errNotJSON
	}
	i = skipWS(d, i+1)
	end, err = scanValue(d, i)
	if err != nil {
		return nil, false, nil, false, err
	}
	r.i = end
	return name, esc, jval(d[i:end]), true, nil
}

// end checks that only whitespace follows the object closed at i.
func (r *objReader) end(i int) error {
	if skipWS(r.d, i) != len(r.d) {
		return errTrailing
	}
	r.i = len(r.d)
	return nil
}

// scanValue validates the JSON value starting at d[i] (no leading
// whitespace) and returns the index just after it. It is iterative: the
// open containers are a bit stack (1 = object), heap-allocated only past
// 128 levels.
func scanValue(d []byte, i int) (int, error) {
	var small [2]uint64
	stack := small[:]
	depth := 0
	var err error
	for {
		// A value starts at i.
		if i >= len(d) {
			return 0, errNotJSON
		}
		switch c := d[i]; {
		case c == '{' || c == '[':
			if depth == maxNestingDepth {
				return 0, errNotJSON
			}
			if depth/64 == len(stack) {
				stack = append(stack, 0)
			}
			if c == '{' {
				stack[depth/64] |= 1 << (depth % 64)
			} else {
				stack[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			i = skipWS(d, i+1)
			if i < len(d) && (c == '{' && d[i] == '}' || c == '[' && d[i] == ']') {
				depth--
				i++
				break
			}
			if c == '{' {
				if i, err = scanKey(d, i); err != nil {
					return 0, err
				}
			}
			continue
		case c == '"':
			if i, _, err = scanString(d, i); err != nil {
				return 0, err
			}
		case c == '-' || c >= '0' && c <= '9':
			if i, err = scanNumber(d, i); err != nil {
				return 0, err
			}
		case c == 't':
			i, err = scanLiteral(d, i, "true")
		case c == 'f':
			i, err = scanLiteral(d, i, "false")
		case c == 'n':
			i, err = scanLiteral(d, i, "null")
		default:
			return 0, errNotJSON
		}
		if err != nil {
			return 0, err
		}
		// A value ended just before i: close containers or go to the next.
		for {
			if depth == 0 {
				return i, nil
			}
			i = skipWS(d, i)
			if i >= len(d) {
				return 0, errNotJSON
			}
			obj := stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			if d[i] == ',' {
				i = skipWS(d, i+1)
				if obj {
					if i, err = scanKey(d, i); err != nil {
						return 0, err
					}
				}
				break
			}
			if obj && d[i] == '}' || !obj && d[i] == ']' {
				depth--
				i++
				continue
			}
			return 0, errNotJSON
		}
	}
}

// scanKey validates `"name" :` at d[i] and returns the index of the value
// after it.
func scanKey(d []byte, i int) (int, error) {
	if i >= len(d) || d[i] != '"' {
		return 0, errNotJSON
	}
	i, _, err := scanString(d, i)
	if err != nil {
		return 0, err
	}
	i = skipWS(d, i)
	if i >= len(d) || d[i] != ':' {
		return 0, errNotJSON
	}
	return skipWS(d, i+1), nil
}

// scanString validates the string starting with the quote at d[i] (RFC
// 8259 §7: no control characters, only the defined escapes, valid UTF-8)
// and returns the index after its closing quote, and whether it has
// escapes.
func scanString(d []byte, i int) (end int, esc bool, err error) {
	i++
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(d) {
				return 0, false, errNotJSON
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(d[i+2:]) < 0 {
					return 0, false, errNotJSON
				}
				i += 6
			default:
				return 0, false, errNotJSON
			}
		case c < 0x20:
			return 0, false, errNotJSON
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, false, errNotUTF8
			}
			i += size
		}
	}
	return 0, false, errNotJSON
}

// hex4 reads four hex digits, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// scanNumber validates a number (RFC 8259 §6:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) at d[i].
func scanNumber(d []byte, i int) (int, error) {
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return 0, errNotJSON
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return 0, errNotJSON
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return 0, errNotJSON
		}
		i = j
	}
	return i, nil
}

func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// scanLiteral matches true, false or null at d[i].
func scanLiteral(d []byte, i int, lit string) (int, error) {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return 0, errNotJSON
	}
	return i + len(lit), nil
}
