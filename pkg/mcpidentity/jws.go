package mcpidentity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// JWSType is the "typ" of identity JWSs (RFC 7515 §4.1.9, RFC 8725 §3.11
// explicit typing): verifiers refuse any other, so no other JWT signed with
// the same key can pass as an identity.
const JWSType = "mcp-gateway-identity+jwt"

// jwsAlg is the only algorithm produced and accepted (RFC 8037 §3.1).
const jwsAlg = "EdDSA"

type jwsHeader struct {
	Alg  string   `json:"alg"`
	Typ  string   `json:"typ"`
	Kid  string   `json:"kid,omitempty"`
	Crit []string `json:"crit,omitempty"`
}

type jwsClaims struct {
	Sub      string `json:"sub"`
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Iss      string `json:"iss"`
	Aud      string `json:"aud"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	Jti      string `json:"jti"`
}

// JWSSigner signs identities as an Ed25519 compact JWS (RFC 7515, RFC 8037)
// for one upstream audience. It does not check that the identity is true:
// the gateway's token verification did.
type JWSSigner struct {
	priv     ed25519.PrivateKey
	keyID    string
	audience string
	now      func() time.Time
}

// NewJWSSigner returns a signer for audience; keyID, when not empty, is
// sent as "kid" so upstreams can pick a key during rotation.
func NewJWSSigner(priv ed25519.PrivateKey, keyID, audience string) (*JWSSigner, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("mcpidentity: Ed25519 private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if audience == "" {
		return nil, fmt.Errorf("mcpidentity: audience is required")
	}
	return &JWSSigner{priv: priv, keyID: keyID, audience: audience, now: time.Now}, nil
}

// Sign removes every MCP-Gateway-* header from h and sets
// MCP-Gateway-Identity to the compact JWS of id (see [JWSSigner.Token]).
func (s *JWSSigner) Sign(h http.Header, id Identity) error {
	StripHeaders(h)
	tok, err := s.Token(id)
	if err != nil {
		return err
	}
	h.Set(HeaderIdentity, tok)
	return nil
}

// Token returns id as a compact JWS, for carriers other than HTTP headers
// (for example a stdio upstream's request _meta). id.Audience is replaced by
// the signer's; a zero Issued becomes now; Expires (required) is capped at
// Issued + 5 minutes; an empty ID gets a random jti. Scopes must be RFC 6749
// scope-tokens; other values may be any UTF-8.
func (s *JWSSigner) Token(id Identity) (string, error) {
	id, err := stamp(id, s.audience, s.now())
	if err != nil {
		return "", err
	}
	if err := checkScopes(id.Scopes); err != nil {
		return "", err
	}
	hdr, err := json.Marshal(jwsHeader{Alg: jwsAlg, Typ: JWSType, Kid: s.keyID})
	if err != nil {
		return "", fmt.Errorf("mcpidentity: encode JWS header: %w", err)
	}
	body, err := json.Marshal(jwsClaims{
		Sub: id.Subject, ClientID: id.ClientID, Scope: strings.Join(id.Scopes, " "),
		Iss: id.Issuer, Aud: id.Audience, Iat: id.Issued.Unix(), Exp: id.Expires.Unix(), Jti: id.ID,
	})
	if err != nil {
		return "", fmt.Errorf("mcpidentity: encode JWS claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hdr) + "." + enc.EncodeToString(body)
	return input + "." + enc.EncodeToString(ed25519.Sign(s.priv, []byte(input))), nil
}

// JWSVerifier checks MCP-Gateway-Identity JWSs for one audience with one
// Ed25519 public key. It accepts only alg "EdDSA" and typ [JWSType]
// (never "none", never an HMAC keyed with the public key), no "crit", and a
// single-string "aud". It ignores "kid". It does not check scopes, the
// request method, path or body.
type JWSVerifier struct {
	pub      ed25519.PublicKey
	audience string
	cfg      verifyConfig
}

// NewJWSVerifier returns a verifier for audience.
func NewJWSVerifier(pub ed25519.PublicKey, audience string, opts ...VerifierOption) (*JWSVerifier, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("mcpidentity: Ed25519 public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	if audience == "" {
		return nil, fmt.Errorf("mcpidentity: audience is required")
	}
	return &JWSVerifier{pub: pub, audience: audience, cfg: newVerifyConfig(opts)}, nil
}

// Verify checks the MCP-Gateway-Identity header of h (the only MCP-Gateway-*
// header allowed) and returns the identity. Errors wrap [ErrMissing],
// [ErrInvalid] or [ErrExpired].
func (v *JWSVerifier) Verify(h http.Header) (*Identity, error) {
	got := ourHeaders(h)
	if len(got) == 0 {
		return nil, ErrMissing
	}
	if err := onlyKnown(got, HeaderIdentity); err != nil {
		return nil, err
	}
	tok, ok, err := single(got, HeaderIdentity)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s is missing", ErrInvalid, HeaderIdentity)
	}
	return v.VerifyToken(tok)
}

// VerifyToken checks a compact JWS made by [JWSSigner.Token].
func (v *JWSVerifier) VerifyToken(tok string) (*Identity, error) {
	if len(tok) > maxHeaderBytes {
		return nil, fmt.Errorf("%w: token longer than %d bytes", ErrInvalid, maxHeaderBytes)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrInvalid)
	}
	enc := base64.RawURLEncoding.Strict()
	hdrJSON, err1 := enc.DecodeString(parts[0])
	body, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("%w: JWS parts are not base64url", ErrInvalid)
	}
	var hdr jwsHeader
	if err := strictJSON(hdrJSON, &hdr); err != nil {
		return nil, fmt.Errorf("%w: JWS header: %w", ErrInvalid, err)
	}
	if hdr.Alg != jwsAlg || hdr.Typ != JWSType || len(hdr.Crit) > 0 {
		return nil, fmt.Errorf("%w: JWS header must be alg %s, typ %s, no crit", ErrInvalid, jwsAlg, JWSType)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(v.pub, []byte(parts[0]+"."+parts[1]), sig) {
		return nil, fmt.Errorf("%w: signature does not verify", ErrInvalid)
	}
	var c jwsClaims
	if err := strictJSON(body, &c); err != nil {
		return nil, fmt.Errorf("%w: JWS claims: %w", ErrInvalid, err)
	}
	if c.Sub == "" || c.Iss == "" || c.Jti == "" || c.Iat == 0 || c.Exp == 0 {
		return nil, fmt.Errorf("%w: sub, iss, iat, exp and jti are required", ErrInvalid)
	}
	var scopes []string
	if c.Scope != "" {
		scopes = strings.Split(c.Scope, " ")
	}
	id := &Identity{
		Subject: c.Sub, ClientID: c.ClientID, Issuer: c.Iss, Audience: c.Aud, Scopes: scopes,
		Issued: time.Unix(c.Iat, 0), Expires: time.Unix(c.Exp, 0), ID: c.Jti,
	}
	if err := v.cfg.checkTimes(id, v.audience); err != nil {
		return nil, err
	}
	return id, nil
}

// strictJSON decodes one JSON object into v: a value of the wrong type (an
// "aud" array, a fractional "exp") or trailing data is an error. Unknown
// members are ignored (RFC 7519 §4).
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}
