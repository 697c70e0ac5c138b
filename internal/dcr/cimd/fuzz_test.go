package cimd

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// fuzzClientID is the document URL used when the fuzzed client_id is not a
// valid one.
const fuzzClientID = "https://client.example/oauth/client.json"

// readMembers reads body as encoding/json does with its default rules, but
// keeps every top-level member: name and value, duplicates and case
// variants included. ok is false unless body is one JSON object.
func readMembers(body []byte) (names []string, values []json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		name, isName := tok.(string)
		var v json.RawMessage
		if err != nil || !isName || dec.Decode(&v) != nil {
			return nil, nil, false
		}
		names, values = append(names, name), append(values, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, false
	}
	return names, values, true
}

// checkClientIDURL fails unless raw meets the client_id URL rules of
// parseClientID's doc, re-checked with net/url.
func checkClientIDURL(t *testing.T, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxClientIDLen || u.Scheme != "https" || !strings.HasPrefix(raw, "https://") ||
		u.User != nil || u.Host == "" || u.Hostname() == "" || u.Port() == "0" || strings.HasSuffix(u.Host, ":") ||
		u.Fragment != "" || strings.Contains(raw, "#") || u.RawQuery != "" || strings.Contains(raw, "?") ||
		u.Path == "" || u.Path == "/" || u.String() != raw {
		t.Fatalf("accepted client_id URL %q", raw)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			t.Fatalf("accepted client_id URL %q with a dot segment", raw)
		}
	}
}

// FuzzClientIDMetadataDocument feeds arbitrary client_id URLs to
// parseClientID (CIMD draft §3) and arbitrary documents to parseDocument
// (§4, §4.1) as fetched from that URL (or fuzzClientID when it is not
// valid). Properties: no panic; an accepted URL is https, canonical
// (url.URL.String), without fragment, query, userinfo, port 0 or dot
// segments and with a path; an accepted document is one JSON object whose
// every member named client_id in any case, as encoding/json reads it,
// equals the URL fetched; it has a non-empty redirect_uris of non-empty
// strings, no client secret member in any case, and auth method "none".
// Seeds: testdata/fuzz/FuzzClientIDMetadataDocument.
func FuzzClientIDMetadataDocument(f *testing.F) {
	f.Fuzz(func(t *testing.T, clientID string, body []byte) {
		id := fuzzClientID
		if _, err := parseClientID(clientID); err == nil {
			checkClientIDURL(t, clientID)
			id = clientID
		}
		md, err := parseDocument(body, id)
		if err != nil {
			return
		}
		names, values, ok := readMembers(body)
		if !ok {
			t.Fatalf("accepted a document that is not one JSON object: %q", body)
		}
		seenID := false
		for i, name := range names {
			switch {
			case strings.EqualFold(name, "client_id"):
				var s string
				if json.Unmarshal(values[i], &s) != nil || s != id {
					t.Fatalf("accepted a document from %s whose %q is %s: %q", id, name, values[i], body)
				}
				seenID = true
			case strings.EqualFold(name, "client_secret"), strings.EqualFold(name, "client_secret_expires_at"):
				t.Fatalf("accepted a document with %q: %q", name, body)
			}
		}
		if !seenID || len(md.RedirectURIs) == 0 || md.TokenEndpointAuthMethod != "none" {
			t.Fatalf("accepted %q as %+v", body, md)
		}
		for _, u := range md.RedirectURIs {
			if u == "" {
				t.Fatalf("accepted an empty redirect URI: %q", body)
			}
		}
	})
}
