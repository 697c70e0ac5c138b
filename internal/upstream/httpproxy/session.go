package httpproxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
)

// maxSessionIDBytes bounds upstream and client session ids.
const maxSessionIDBytes = 1024

// errBadUpstreamSession is an upstream Mcp-Session-Id the proxy will not wrap.
var errBadUpstreamSession = errors.New("upstream session id is empty, too long or not visible ASCII")

// errUnbindable is a principal whose issuer or subject contains NUL, which
// would make the MAC input ambiguous.
var errUnbindable = errors.New("principal cannot be bound to a session")

// sessionCodec turns upstream session ids into gateway session ids bound to
// a route and a principal, and back (see the package doc). It does not
// expire ids: the upstream decides when a session ends.
type sessionCodec struct {
	key   []byte
	route string
}

var b64 = base64.RawURLEncoding

// wrap returns the id the client sees for upstreamID and principal p.
func (c sessionCodec) wrap(upstreamID string, p *authn.Principal) (string, error) {
	if !visibleASCII(upstreamID) || len(upstreamID) > maxSessionIDBytes {
		return "", errBadUpstreamSession
	}
	mac, err := c.mac(upstreamID, p)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString([]byte(upstreamID)) + "." + b64.EncodeToString(mac), nil
}

// unwrap verifies a client-presented id against p and returns the upstream
// id; ok is false for anything forged, foreign, malformed or oversized.
func (c sessionCodec) unwrap(clientID string, p *authn.Principal) (string, bool) {
	if len(clientID) > 2*maxSessionIDBytes {
		return "", false
	}
	idPart, macPart, found := strings.Cut(clientID, ".")
	if !found {
		return "", false
	}
	id, err1 := b64.DecodeString(idPart)
	got, err2 := b64.DecodeString(macPart)
	if err1 != nil || err2 != nil || !visibleASCII(string(id)) {
		return "", false
	}
	want, err := c.mac(string(id), p)
	if err != nil || !hmac.Equal(got, want) {
		return "", false
	}
	return string(id), true
}

func (c sessionCodec) mac(upstreamID string, p *authn.Principal) ([]byte, error) {
	if p == nil || strings.ContainsRune(p.Issuer, 0) || strings.ContainsRune(p.Subject, 0) || strings.ContainsRune(c.route, 0) {
		return nil, errUnbindable
	}
	m := hmac.New(sha256.New, c.key)
	for _, s := range []string{c.route, "\x00", p.Issuer, "\x00", p.Subject, "\x00", upstreamID} {
		m.Write([]byte(s))
	}
	return m.Sum(nil), nil
}

// visibleASCII reports whether s is non-empty and only %x21-7E, the
// characters MCP allows in a session id (Transports §Session Management).
func visibleASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// principalKey identifies a principal for limits and bridge ownership.
func principalKey(p *authn.Principal) string { return p.Issuer + "|" + p.Subject }
