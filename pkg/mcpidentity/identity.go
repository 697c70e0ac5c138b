package mcpidentity

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Header names of the wire format (see the package documentation). They are
// in canonical MIME form, as net/http stores them.
const (
	HeaderSubject   = "Mcp-Gateway-Subject"
	HeaderClientID  = "Mcp-Gateway-Client-Id"
	HeaderScopes    = "Mcp-Gateway-Scopes"
	HeaderIssuer    = "Mcp-Gateway-Issuer"
	HeaderAudience  = "Mcp-Gateway-Audience"
	HeaderIssued    = "Mcp-Gateway-Issued"
	HeaderExpires   = "Mcp-Gateway-Expires"
	HeaderNonce     = "Mcp-Gateway-Nonce"
	HeaderSignature = "Mcp-Gateway-Signature"
	// HeaderIdentity carries the compact JWS of JWS mode.
	HeaderIdentity = "Mcp-Gateway-Identity"
	// HeaderPrefix is the namespace every header above lives in, lower case.
	HeaderPrefix = "mcp-gateway-"
)

// DefaultMaxAge is the default replay window: how long after Issued a
// verifier accepts an identity, and the longest lifetime a signer gives one.
const DefaultMaxAge = 5 * time.Minute

// DefaultLeeway is the default clock skew a verifier tolerates.
const DefaultLeeway = 30 * time.Second

// MinHMACKeyBytes is the shortest HMAC key accepted (the HMAC-SHA256 output
// size, RFC 2104 §3).
const MinHMACKeyBytes = 32

// maxHeaderBytes bounds every identity header a verifier reads.
const maxHeaderBytes = 8 << 10

// Errors a caller can branch on with errors.Is. Every verification failure
// wraps exactly one of them.
var (
	// ErrMissing: the request carries no identity at all (no header of the
	// mode's set). An upstream may treat it as anonymous if it wants to.
	ErrMissing = errors.New("mcpidentity: no gateway identity")
	// ErrInvalid: an identity is present but malformed, incomplete,
	// duplicated, forged, for another audience, or issued in the future.
	ErrInvalid = errors.New("mcpidentity: invalid gateway identity")
	// ErrExpired: a valid signature whose identity has expired or is older
	// than the verifier's maximum age.
	ErrExpired = errors.New("mcpidentity: expired gateway identity")
	// ErrReplayed: the replay check reported the nonce as seen. It wraps
	// ErrInvalid too.
	ErrReplayed = fmt.Errorf("%w: nonce already seen", ErrInvalid)
)

// Identity is the caller as the gateway verified it from an OAuth access
// token (RFC 9068 §2.2 claims), as asserted to one upstream.
type Identity struct {
	// Subject is the access token's "sub".
	Subject string
	// ClientID is the OAuth client the token was issued to; may be empty.
	ClientID string
	// Issuer is the access token's "iss".
	Issuer string
	// Audience is the upstream this identity is meant for. Signers set it
	// to their own audience; verifiers have checked it equals theirs.
	Audience string
	// Scopes are the scopes granted to the token.
	Scopes []string
	// Expires is when the identity stops being valid; Issued is when the
	// gateway signed it. Both have second precision on the wire.
	Expires time.Time
	Issued  time.Time
	// ID is the per-request nonce (HMAC mode) or jti (JWS mode). Signers
	// generate it when empty.
	ID string
}

// HasScope reports whether s is one of the identity's scopes (exact,
// case-sensitive comparison, RFC 6749 §3.3; no hierarchy or wildcards).
func (id *Identity) HasScope(s string) bool {
	return slices.Contains(id.Scopes, s)
}

// StripHeaders removes every header in the MCP-Gateway-* namespace from h,
// whatever the case of its name. Signers call it before setting their own;
// a gateway calls it on what the client sent so that a client can never
// forge an identity header. It removes nothing else.
func StripHeaders(h http.Header) {
	for k := range h {
		if isOurs(k) {
			delete(h, k)
		}
	}
}

func isOurs(name string) bool {
	return len(name) >= len(HeaderPrefix) && strings.EqualFold(name[:len(HeaderPrefix)], HeaderPrefix)
}

// ourHeaders returns the MCP-Gateway-* headers of h keyed by canonical name,
// merging keys that differ only in case so duplicates cannot hide there.
func ourHeaders(h http.Header) map[string][]string {
	var got map[string][]string
	for k, vs := range h {
		if !isOurs(k) {
			continue
		}
		if got == nil {
			got = map[string][]string{}
		}
		ck := http.CanonicalHeaderKey(k)
		got[ck] = append(got[ck], vs...)
	}
	return got
}

// single returns the one value of name in got. Absent is "" and ok=false;
// present more than once or too long is an error.
func single(got map[string][]string, name string) (v string, ok bool, err error) {
	vs, present := got[name]
	switch {
	case !present:
		return "", false, nil
	case len(vs) != 1:
		return "", false, fmt.Errorf("%w: %s appears %d times", ErrInvalid, name, len(vs))
	case len(vs[0]) > maxHeaderBytes:
		return "", false, fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, name, maxHeaderBytes)
	}
	return vs[0], true, nil
}

// onlyKnown refuses any MCP-Gateway-* header outside allowed.
func onlyKnown(got map[string][]string, allowed ...string) error {
	for k := range got {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%w: unexpected header %s", ErrInvalid, k)
		}
	}
	return nil
}

// checkValue enforces the HMAC-mode value rule: printable ASCII and SP, no
// leading or trailing space.
func checkValue(field, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: %s contains byte 0x%02x; only printable ASCII can be signed as a header", ErrUnencodable, field, c)
		}
	}
	if strings.TrimSpace(v) != v {
		return fmt.Errorf("%w: %s has leading or trailing spaces", ErrUnencodable, field)
	}
	return nil
}

// ErrUnencodable is returned by [HMACSigner.Sign] for an identity whose
// values cannot travel as signed headers unchanged.
var ErrUnencodable = errors.New("mcpidentity: value cannot be sent as a header")

// checkScopes enforces RFC 6749 §3.3 scope-token syntax, which also keeps
// the space-separated list unambiguous.
func checkScopes(scopes []string) error {
	for _, s := range scopes {
		if s == "" {
			return fmt.Errorf("%w: empty scope", ErrUnencodable)
		}
		if !oauthmeta.ValidScopeToken(s) {
			return fmt.Errorf("%w: scope %q is not an RFC 6749 scope-token", ErrUnencodable, s)
		}
	}
	return nil
}

// newNonce returns 128 random bits, base64url without padding.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// stamp fills Issued, Expires (capped at Issued+DefaultMaxAge), Audience
// and ID for a signer.
func stamp(id Identity, audience string, now time.Time) (Identity, error) {
	if id.Subject == "" || id.Issuer == "" {
		return id, fmt.Errorf("%w: subject and issuer are required", ErrUnencodable)
	}
	if id.Expires.IsZero() {
		return id, fmt.Errorf("%w: Expires is required", ErrUnencodable)
	}
	if id.Issued.IsZero() {
		id.Issued = now
	}
	id.Issued = id.Issued.Truncate(time.Second)
	if limit := id.Issued.Add(DefaultMaxAge); id.Expires.After(limit) {
		id.Expires = limit
	}
	id.Expires = id.Expires.Truncate(time.Second)
	id.Audience = audience
	if id.ID == "" {
		id.ID = newNonce()
	}
	return id, nil
}
