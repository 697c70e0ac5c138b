package mcpidentity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// canonicalV1 is the first line of the version 1 canonical string.
const canonicalV1 = "mcp-gateway-identity-v1"

// signaturePrefix precedes the MAC in MCP-Gateway-Signature.
const signaturePrefix = "v1="

// hmacHeaders is the HMAC mode's header set, in canonical-string order, then
// the signature.
var hmacHeaders = []string{
	HeaderAudience, HeaderIssuer, HeaderSubject, HeaderClientID, HeaderScopes,
	HeaderIssued, HeaderExpires, HeaderNonce, HeaderSignature,
}

// optionalHeaders may be absent, meaning empty.
func optionalHeader(name string) bool { return name == HeaderClientID || name == HeaderScopes }

// CanonicalString returns the version 1 string that MCP-Gateway-Signature
// signs, given the header values in the order audience, issuer, subject,
// client id, scopes, issued, expires, nonce (see the package documentation).
// It is exported for implementers in other languages and for golden tests.
func CanonicalString(values ...string) string {
	var b strings.Builder
	b.WriteString(canonicalV1)
	b.WriteByte('\n')
	for _, v := range values {
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}

func mac(key []byte, canonical string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(canonical))
	return m.Sum(nil)
}

// HMACSigner signs identities with a shared key (HMAC-SHA256, RFC 2104) for
// one upstream audience. It does not check that the identity's scopes or
// subject are true: the gateway's token verification did.
type HMACSigner struct {
	key      []byte
	audience string
	now      func() time.Time
}

// NewHMACSigner returns a signer for audience. key must have at least
// [MinHMACKeyBytes] bytes; it is copied.
func NewHMACSigner(key []byte, audience string) (*HMACSigner, error) {
	if len(key) < MinHMACKeyBytes {
		return nil, fmt.Errorf("mcpidentity: HMAC key has %d bytes, need at least %d", len(key), MinHMACKeyBytes)
	}
	if audience == "" || checkValue("audience", audience) != nil {
		return nil, fmt.Errorf("mcpidentity: audience %q must be non-empty printable ASCII", audience)
	}
	return &HMACSigner{key: append([]byte(nil), key...), audience: audience, now: time.Now}, nil
}

// Sign removes every MCP-Gateway-* header from h, then sets the HMAC-mode
// headers for id. id.Audience is replaced by the signer's audience; a zero
// Issued becomes now; Expires (required) is capped at Issued + 5 minutes;
// an empty ID gets a random nonce. Values that are not printable ASCII,
// and scopes that are not RFC 6749 scope-tokens, are refused with
// [ErrUnencodable], leaving h without identity headers.
func (s *HMACSigner) Sign(h http.Header, id Identity) error {
	StripHeaders(h)
	id, err := stamp(id, s.audience, s.now())
	if err != nil {
		return err
	}
	if err := checkScopes(id.Scopes); err != nil {
		return err
	}
	vals := []string{
		id.Audience, id.Issuer, id.Subject, id.ClientID, strings.Join(id.Scopes, " "),
		strconv.FormatInt(id.Issued.Unix(), 10), strconv.FormatInt(id.Expires.Unix(), 10), id.ID,
	}
	for i, v := range vals {
		if err := checkValue(hmacHeaders[i], v); err != nil {
			return err
		}
	}
	sig := signaturePrefix + base64.RawURLEncoding.EncodeToString(mac(s.key, CanonicalString(vals...)))
	for i, v := range vals {
		if v == "" && optionalHeader(hmacHeaders[i]) {
			continue
		}
		h.Set(hmacHeaders[i], v)
	}
	h.Set(HeaderSignature, sig)
	return nil
}

// HMACVerifier checks HMAC-mode identity headers for one audience. It does
// not check scopes, the request method, path or body (see the package
// documentation).
type HMACVerifier struct {
	keys     [][]byte
	audience string
	cfg      verifyConfig
}

// NewHMACVerifier returns a verifier accepting identities signed with key
// (at least [MinHMACKeyBytes]; copied) and, with [WithPreviousHMACKeys],
// older keys, for exactly audience.
func NewHMACVerifier(key []byte, audience string, opts ...VerifierOption) (*HMACVerifier, error) {
	if len(key) < MinHMACKeyBytes {
		return nil, fmt.Errorf("mcpidentity: HMAC key has %d bytes, need at least %d", len(key), MinHMACKeyBytes)
	}
	if audience == "" {
		return nil, fmt.Errorf("mcpidentity: audience is required")
	}
	cfg := newVerifyConfig(opts)
	keys := append([][]byte{append([]byte(nil), key...)}, cfg.oldKeys...)
	return &HMACVerifier{keys: keys, audience: audience, cfg: cfg}, nil
}

// Verify checks the identity headers of h and returns the identity. Errors
// wrap [ErrMissing], [ErrInvalid] or [ErrExpired]. The MAC comparison is
// constant-time.
func (v *HMACVerifier) Verify(h http.Header) (*Identity, error) {
	got := ourHeaders(h)
	if len(got) == 0 {
		return nil, ErrMissing
	}
	if err := onlyKnown(got, hmacHeaders...); err != nil {
		return nil, err
	}
	vals := make([]string, len(hmacHeaders))
	for i, name := range hmacHeaders {
		val, ok, err := single(got, name)
		if err != nil {
			return nil, err
		}
		if !ok && !optionalHeader(name) {
			return nil, fmt.Errorf("%w: %s is missing", ErrInvalid, name)
		}
		vals[i] = val
	}
	sigText, ok := strings.CutPrefix(vals[8], signaturePrefix)
	if !ok {
		return nil, fmt.Errorf("%w: signature is not %s<mac>", ErrInvalid, signaturePrefix)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return nil, fmt.Errorf("%w: signature is not a base64url HMAC-SHA256", ErrInvalid)
	}
	canonical := CanonicalString(vals[:8]...)
	matched := false
	for _, k := range v.keys {
		// Every key is tried so the time taken does not reveal which matched.
		if hmac.Equal(sig, mac(k, canonical)) {
			matched = true
		}
	}
	if !matched {
		return nil, fmt.Errorf("%w: signature does not verify", ErrInvalid)
	}
	id, err := parseHMACValues(vals)
	if err != nil {
		return nil, err
	}
	if err := v.cfg.checkTimes(id, v.audience); err != nil {
		return nil, err
	}
	return id, nil
}

func parseHMACValues(vals []string) (*Identity, error) {
	issued, err1 := parseUnix(vals[5])
	expires, err2 := parseUnix(vals[6])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: issued and expires must be unix seconds", ErrInvalid)
	}
	if vals[1] == "" || vals[2] == "" || vals[7] == "" {
		return nil, fmt.Errorf("%w: issuer, subject and nonce must not be empty", ErrInvalid)
	}
	var scopes []string
	if vals[4] != "" {
		scopes = strings.Split(vals[4], " ")
	}
	return &Identity{
		Audience: vals[0], Issuer: vals[1], Subject: vals[2], ClientID: vals[3], Scopes: scopes,
		Issued: issued, Expires: expires, ID: vals[7],
	}, nil
}

// parseUnix accepts only plain decimal digits (no sign, no spaces).
func parseUnix(s string) (time.Time, error) {
	if s == "" || len(s) > 12 || strings.Trim(s, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("not unix seconds: %q", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not unix seconds: %q: %w", s, err)
	}
	return time.Unix(n, 0), nil
}
