package cimd

import (
	"bytes"
	"encoding/json"
	"unicode"
)

// distinctMembers reports whether body, one JSON object, names each
// top-level member once, also under the Unicode case folding with which
// encoding/json matches names to fields ("Client_ID" and "client_id", "K"
// and the Kelvin sign). A document that states its client_id or
// redirect_uris twice would mean one thing here (the last one wins) and
// perhaps another to its author or another parser; it is refused instead
// (CIMD draft §4: client_id MUST equal the URL). Nested objects are not
// checked.
func distinctMembers(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		var skip json.RawMessage
		if err != nil || !ok || dec.Decode(&skip) != nil {
			return false
		}
		key := foldName(name)
		if seen[key] {
			return false
		}
		seen[key] = true
	}
	return true
}

// foldName maps each rune of name to the least rune of its Unicode simple
// folding orbit, so that names strings.EqualFold equates map alike.
func foldName(name string) string {
	out := make([]rune, 0, len(name))
	for _, r := range name {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		out = append(out, m)
	}
	return string(out)
}
