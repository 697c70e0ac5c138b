package authn

import (
	"errors"
	"hash/maphash"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// memberName returns the decoded form of a member name read by objReader
// (aliasing the input when it has no escapes), so that "a" and "\u0061"
// are the same name, as they are to encoding/json.
func memberName(raw []byte, esc bool) []byte {
	if !esc {
		return raw
	}
	return unescape(raw)
}

// errDuplicate is the error for a repeated top-level member name (RFC 7515
// §5.2 step 4, RFC 7519 §7.2 step 4 allow rejecting them).
func errDuplicate(name []byte) error {
	return errors.New("duplicate member " + quoteName(string(name)))
}

// nameSetSmall is how many names a nameSet holds before it switches to a
// map; below it, a lookup compares at most that many 64-bit hashes.
const nameSetSmall = 32

var nameSeed = maphash.MakeSeed()

// nameSet detects repeated member names among those a caller has no slot
// for, in time linear in the number of names however hostile the payload:
// up to nameSetSmall names are compared by hash (then bytes), beyond that
// a map takes over. The zero value is empty and allocates nothing until it
// holds more than nameSetSmall names.
type nameSet struct {
	n      int
	hashes [nameSetSmall]uint64
	names  [nameSetSmall][]byte
	big    map[string]struct{}
}

// add records name and reports false if it was already there.
func (s *nameSet) add(name []byte) bool {
	if s.big != nil {
		if _, dup := s.big[string(name)]; dup {
			return false
		}
		s.big[string(name)] = struct{}{}
		return true
	}
	h := maphash.Bytes(nameSeed, name)
	for i := 0; i < s.n; i++ {
		if s.hashes[i] == h && string(s.names[i]) == string(name) {
			return false
		}
	}
	if s.n < nameSetSmall {
		s.hashes[s.n], s.names[s.n] = h, name
		s.n++
		return true
	}
	s.big = make(map[string]struct{}, 4*nameSetSmall)
	for _, n := range s.names {
		s.big[string(n)] = struct{}{}
	}
	s.big[string(name)] = struct{}{}
	return true
}

// arrayIter walks the elements of a validated JSON array value.
type arrayIter struct {
	d jval
	i int
}

// next returns the next element, or false after the last.
func (it *arrayIter) next() (jval, bool) {
	d := it.d
	i := it.i
	if i == 0 {
		i = 1 // past '['
	}
	i = skipWS(d, i)
	if d[i] == ',' {
		i = skipWS(d, i+1)
	}
	if d[i] == ']' {
		return nil, false
	}
	end, err := scanValue(d, i)
	if err != nil { // not reached: d was validated
		return nil, false
	}
	it.i = end
	return d[i:end], true
}

// unescape decodes the escapes of validated string content s exactly as
// encoding/json does: a surrogate escape not followed by its pair becomes
// U+FFFD.
func unescape(s []byte) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r1 := rune(-1)
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r1 = hex4(s[i+2:])
				}
				if dec := utf16.DecodeRune(r, r1); dec != unicode.ReplacementChar {
					i += 6
					b = utf8.AppendRune(b, dec)
					continue
				}
				r = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, r)
			continue
		default: // '"', '\\', '/'
			b = append(b, s[i+1])
		}
		i += 2
	}
	return b
}
