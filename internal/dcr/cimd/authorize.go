package cimd

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Authorization request values this front accepts (RFC 6749 §4.1.1, RFC
// 7636 §4.3; RFC 9700 §2.1.1 requires PKCE and discourages plain).
const (
	codeChallengeMethodS256 = "S256"
	// s256ChallengeLen is the length of BASE64URL(SHA-256(verifier))
	// without padding (RFC 7636 §4.2).
	s256ChallengeLen = 43
	// codeUnsupportedResponseType is the RFC 6749 §4.1.2.1 error code.
	codeUnsupportedResponseType = "unsupported_response_type"
)

// Authorize serves GET and POST /authorize (RFC 6749 §4.1.1) for every
// client, CIMD or not, and answers 302 to Cognito's /oauth2/authorize once
// the request passes, in this order:
//
//  1. The client and its redirect_uri (RFC 6749 §4.1.2.1: while either is
//     missing, invalid or unknown, errors are JSON, never a redirect):
//     client_id is required and no parameter may repeat (RFC 6749 §3.1).
//     A CIMD client_id's document is fetched (400 invalid_client when it
//     cannot be), redirect_uri must be listed in it, port-agnostically for
//     a portless loopback URI (RFC 8252 §7.3, oauthmeta.RedirectURIListed),
//     and the document is mapped to an app client (the Registrar's status
//     for its refusals). Mapping a document never seen creates an app
//     client, and a changed one updates it: that Cognito write spends a
//     token of t first (see below); without one the request is redirected
//     with temporarily_unavailable, since redirect_uri is verified by then
//     (listed in a document that passed the registration rules). Any
//     other client_id is looked up in the registration store; when found,
//     redirect_uri must be among its registered URIs under the same rule
//     (400 invalid_request).
//  2. The request (errors are redirected to redirect_uri with error,
//     error_description and state, RFC 6749 §4.1.2.1): response_type must
//     be code (unsupported_response_type), and code_challenge_method must
//     be S256 with a 43-character base64url code_challenge (invalid_request;
//     RFC 9700 §2.1.1; a missing method means plain, RFC 7636 §4.3, and is
//     refused too).
//  3. A missing or empty scope becomes the default scopes: for a client in
//     the store, those of them it registered (all its registered scopes
//     when none is), for other clients all of them; no default configured
//     leaves the request without scope.
//  4. When redirect_uri matched a registered portless loopback URI on
//     another port, the Registrar adds the exact URI to the app client's
//     callback URLs first (Cognito compares them exactly); its failures
//     are redirected (temporarily_unavailable, for example when every
//     callback slot belongs to a login in progress, or server_error).
//     Adding a port spends a token of t first, and so does refreshing the
//     recorded use of a listed port (at most one write per port and
//     minute); a refresh without a token is skipped, not refused (the
//     port is listed, so the login works).
//
// Every Cognito write a request causes spends one token of t for its
// source, asked by the Registrar just before the write (dcr.WriteGate):
// a new document with a new port costs two. With none left, the request
// is redirected with temporarily_unavailable and an error_description
// saying when to retry, and nothing is written. Requests that cause no
// write never reach t: a known, unchanged document, a registered URI, a
// listed port used in the last minute, a new port refused because every
// slot is in use, a client the store does not know. A nil t limits
// nothing.
//
// The redirect to Cognito carries the request's parameters, with the
// mapped client_id for a CIMD client; a GET left unchanged is forwarded
// byte for byte.
//
// Client ids the store does not know (an operator's pre-registered app
// clients) are not looked up in Cognito (DescribeUserPoolClient): that
// would put a Cognito call, under an account-wide quota shared with
// registration, behind an unauthenticated endpoint. Their redirect_uri is
// therefore unverified, so step 2's errors are JSON for them too, and a
// request that passes goes to Cognito, which checks redirect_uri against
// the client's callback URLs itself.
//
// Errors never carry iss (RFC 9207): the metadata does not advertise
// authorization_response_iss_parameter_supported, because Cognito's own
// redirects (every successful one) have no iss. Not checked here: scope
// values, resource, nonce and the rest (Cognito does).
func (b *Bridge) Authorize(w http.ResponseWriter, r *http.Request, t Throttle) {
	q, perr := authorizeParams(w, r)
	if perr != nil {
		bearer.WriteJSON(w, perr)
		return
	}
	clientID, ru := q.Get("client_id"), q.Get("redirect_uri")
	g := newWriteGate(t, r)
	reg, e := b.authorizeClient(r.Context(), clientID, ru, g)
	if e != nil {
		if g.refused(e) {
			redirectError(w, ru, q.Get("state"), e)
			return
		}
		bearer.WriteJSON(w, e)
		return
	}
	if e := checkAuthorizeRequest(q); e != nil {
		b.log.Warn("authorize: request refused", "client_id", clientID, "error", e.Code, "reason", e.Description)
		if reg == nil {
			bearer.WriteJSON(w, e)
			return
		}
		redirectError(w, ru, q.Get("state"), e)
		return
	}
	changed := b.defaultScope(q, reg)
	if reg != nil {
		next, err := b.registrar.UseRedirectURI(r.Context(), reg, ru, g.gate())
		if err != nil {
			if g.refused(err) {
				b.log.Warn("authorize: new callback URL rate limited", "client_id", clientID, "reason", err)
			} else {
				b.log.Warn("authorize: callback URL not added", "client_id", clientID, "err", err)
			}
			redirectError(w, ru, q.Get("state"), authorizeFailure(err))
			return
		}
		reg = next
	}
	raw := r.URL.RawQuery
	if IsURLClientID(clientID) {
		q.Set("client_id", reg.ClientID)
		changed = true
		b.log.Info("cimd authorize bridged", "client_id", clientID, "mapped_client_id", reg.ClientID)
	} else {
		b.log.Info("authorize passthrough", "client_id", clientID, "registered", reg != nil)
	}
	if changed || r.Method == http.MethodPost {
		raw = q.Encode()
	}
	redirect(w, b.authorize+"?"+raw)
}

// authorizeClient checks the client and redirect URI of an authorization
// request (step 1 of Authorize) and returns the client's registration, nil
// for a client id the store does not know. When g refused the mapping's
// write, the error is g's refusal itself (g.refused).
func (b *Bridge) authorizeClient(ctx context.Context, clientID, ru string, g *writeGate) (*dcr.Registration, *bearer.Error) {
	if !IsURLClientID(clientID) {
		if ru == "" {
			return nil, bearer.ErrInvalidRequest("redirect_uri is required")
		}
		reg, err := b.registrar.Lookup(ctx, clientID)
		if err != nil {
			b.log.Error("authorize: registration lookup failed", "client_id", clientID, "err", err)
			return nil, registrarError(err, 0)
		}
		if reg != nil && !oauthmeta.RedirectURIListed(reg.Metadata.RedirectURIs, ru) {
			b.log.Warn("authorize: redirect_uri not registered", "client_id", clientID)
			return nil, bearer.ErrInvalidRequest("redirect_uri is not registered for this client")
		}
		return reg, nil
	}
	doc, err := b.fetcher.Fetch(ctx, clientID)
	if err != nil {
		b.log.Warn("cimd authorize: document refused", "client_id", clientID, "err", err)
		return nil, registrarError(err, http.StatusBadRequest)
	}
	if ru == "" || !oauthmeta.RedirectURIListed(doc.Metadata.RedirectURIs, ru) {
		b.log.Warn("cimd authorize: redirect_uri not listed", "client_id", clientID)
		return nil, bearer.ErrInvalidRequest("redirect_uri is missing or not listed in the client metadata document")
	}
	reg, err := b.registrar.RegisterCIMD(ctx, clientID, doc.Metadata, g.gate())
	if g.refused(err) {
		b.log.Warn("cimd authorize: new or changed document rate limited", "client_id", clientID, "reason", err)
		return nil, g.refusal
	}
	if err != nil {
		b.log.Warn("cimd authorize: registration refused", "client_id", clientID, "err", err)
		return nil, registrarError(err, 0)
	}
	return reg, nil
}

// checkAuthorizeRequest applies step 2 of Authorize.
func checkAuthorizeRequest(q url.Values) *bearer.Error {
	switch rt := q.Get("response_type"); {
	case rt == "":
		return bearer.ErrInvalidRequest("response_type is required")
	case rt != "code":
		return &bearer.Error{Status: http.StatusBadRequest, Code: codeUnsupportedResponseType,
			Description: "only response_type code is supported"}
	}
	cc, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case cc == "":
		return bearer.ErrInvalidRequest("code_challenge is required: use PKCE with code_challenge_method S256 (RFC 7636)")
	case method == "":
		return bearer.ErrInvalidRequest("code_challenge_method S256 is required: without it the method is plain (RFC 7636 section 4.3), which is not supported")
	case method != codeChallengeMethodS256:
		return bearer.ErrInvalidRequest("code_challenge_method must be S256; other transformations are not supported")
	case len(cc) != s256ChallengeLen || strings.ContainsFunc(cc, notBase64URL):
		return bearer.ErrInvalidRequest("code_challenge must be the 43-character base64url SHA-256 of the code verifier (RFC 7636 section 4.2)")
	}
	return nil
}

// notBase64URL reports a character outside the base64url alphabet.
func notBase64URL(c rune) bool {
	return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')
}

// defaultScope applies step 3 of Authorize to q and reports whether it
// changed q.
func (b *Bridge) defaultScope(q url.Values, reg *dcr.Registration) bool {
	if strings.TrimSpace(q.Get("scope")) != "" || len(b.defaults) == 0 {
		return false
	}
	scopes := b.defaults
	if reg != nil {
		scopes = slices.DeleteFunc(slices.Clone(b.defaults), func(s string) bool { return !slices.Contains(reg.Scopes, s) })
		if len(scopes) == 0 {
			scopes = reg.Scopes
		}
	}
	if len(scopes) == 0 {
		return false
	}
	q.Set("scope", strings.Join(scopes, " "))
	return true
}

// authorizeFailure is the RFC 6749 §4.1.2.1 error for a Registrar failure
// after the redirect URI was verified: its own invalid_request or
// temporarily_unavailable, else server_error (the cause is logged, never
// shown).
func authorizeFailure(err error) *bearer.Error {
	if be := publicError(err); be != nil && (be.Code == codeInvalidRequest || be.Code == codeUnavailable) {
		return be
	}
	return &bearer.Error{Status: http.StatusInternalServerError, Code: codeServerError,
		Description: "the authorization request could not be prepared; try again"}
}

// redirectError answers 302 to the verified redirect URI ru with the RFC
// 6749 §4.1.2.1 error parameters added to its query: error,
// error_description (cut to the characters §4.1.2.1 allows) and state when
// the request had one.
func redirectError(w http.ResponseWriter, ru, state string, e *bearer.Error) {
	v := url.Values{"error": {e.Code}}
	if d := errorDescription(e.Description); d != "" {
		v.Set("error_description", d)
	}
	if state != "" {
		v.Set("state", state)
	}
	sep := "?"
	if strings.Contains(ru, "?") {
		sep = "&"
	}
	redirect(w, ru+sep+v.Encode())
}

// errorDescription keeps the characters RFC 6749 §4.1.2.1 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E), replacing others with
// "'" (quotes, backslashes) or dropping them.
func errorDescription(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\':
			return '\''
		case r < 0x20 || r > 0x7e:
			return -1
		}
		return r
	}, s)
}
