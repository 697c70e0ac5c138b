package cimd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// Token serves POST /token (RFC 6749 §3.2). The client id comes from the
// form (public clients) or HTTP Basic (RFC 6749 §2.3.1); both at once must
// agree. For a CIMD client_id, which must be a public client (Basic is
// refused), the document must still be fetchable or cached and is mapped
// through the Registrar; client_id in the form is replaced with the mapped
// id. Any other request is forwarded with its Authorization header. The
// form is always re-encoded from the parsed values. The call to Cognito's /oauth2/token has
// the request's context, a timeout and a MaxTokenResponseBytes cap; its
// status, Content-Type and body are copied back with Cache-Control:
// no-store. Refusals: 405 for other methods, 400 for a non-form body or a
// repeated parameter, 413 above MaxRequestBytes, 401 invalid_client for a
// CIMD client that cannot be resolved, 502 when Cognito cannot be reached
// or answers too much. The form is never logged. It does not validate
// grant_type, code, code_verifier or redirect_uri: Cognito does.
//
// Mapping a CIMD document never seen (pointless here, as no authorization
// code can have been issued for it, but possible) or a changed one writes
// to Cognito: as at /authorize, that write spends a token of t for the
// request's source first, and without one the answer is 503
// temporarily_unavailable (JSON, saying when to retry) and nothing is
// written. A known, unchanged document never reaches t; a nil t limits
// nothing.
func (b *Bridge) Token(w http.ResponseWriter, r *http.Request, t Throttle) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		bearer.WriteJSON(w, &bearer.Error{Status: http.StatusMethodNotAllowed, Code: codeInvalidRequest, Description: "use POST"})
		return
	}
	form, e := readForm(w, r)
	if e == nil {
		e = noRepeats(form)
	}
	if e != nil {
		bearer.WriteJSON(w, e)
		return
	}
	clientID, basic, e := tokenClientID(r, form)
	if e != nil {
		bearer.WriteJSON(w, e)
		return
	}
	auth := r.Header.Get("Authorization")
	if IsURLClientID(clientID) {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="mcp-dcr"`)
			bearer.WriteJSON(w, &bearer.Error{Status: http.StatusUnauthorized, Code: codeInvalidClient,
				Description: "metadata-document clients are public clients; client authentication is not supported"})
			return
		}
		mapped, e := b.mapClient(r.Context(), clientID, newWriteGate(t, r))
		if e != nil {
			bearer.WriteJSON(w, e)
			return
		}
		form.Set("client_id", mapped)
		auth = ""
	}
	b.forward(r.Context(), w, form.Encode(), auth, clientID)
}

// tokenClientID returns the client id from HTTP Basic (form-urlencoded
// user name, RFC 6749 §2.3.1) or the form; basic reports whether Basic was
// used.
func tokenClientID(r *http.Request, form url.Values) (id string, basic bool, e *bearer.Error) {
	fid := form.Get("client_id")
	user, _, ok := r.BasicAuth()
	if !ok {
		if fid == "" {
			return "", false, &bearer.Error{Status: http.StatusUnauthorized, Code: codeInvalidClient, Description: "client_id is required"}
		}
		return fid, false, nil
	}
	bid, err := url.QueryUnescape(user)
	if err != nil || bid == "" {
		return "", true, &bearer.Error{Status: http.StatusUnauthorized, Code: codeInvalidClient, Description: "malformed client credentials"}
	}
	if fid != "" && fid != bid {
		return "", true, bearer.ErrInvalidRequest("client_id in the form and in the Authorization header differ")
	}
	return bid, true, nil
}

// mapClient resolves a CIMD client id to its app client; failures are 401
// invalid_client (503 when the Registrar failed for another reason, or g
// refused its write).
func (b *Bridge) mapClient(ctx context.Context, clientID string, g *writeGate) (string, *bearer.Error) {
	doc, err := b.fetcher.Fetch(ctx, clientID)
	if err != nil {
		b.log.Warn("cimd token: document refused", "client_id", clientID, "err", err)
		return "", publicError(err)
	}
	reg, err := b.registrar.RegisterCIMD(ctx, clientID, doc.Metadata, g.gate())
	if g.refused(err) {
		b.log.Warn("cimd token: new or changed document rate limited", "client_id", clientID, "reason", err)
		return "", g.refusal
	}
	if err != nil {
		b.log.Warn("cimd token: registration refused", "client_id", clientID, "err", err)
		e := registrarError(err, http.StatusUnauthorized)
		if e.Status == http.StatusUnauthorized {
			e.Code = codeInvalidClient
		}
		return "", e
	}
	return reg.ClientID, nil
}

// forward posts body to Cognito's token endpoint and copies the answer.
func (b *Bridge) forward(ctx context.Context, w http.ResponseWriter, body, auth, clientID string) {
	ctx, cancel := context.WithTimeout(ctx, DefaultForwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.token, strings.NewReader(body))
	if err != nil {
		bearer.WriteJSON(w, upstreamError())
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.log.Error("cimd token: cognito unreachable", "client_id", clientID, "err", err)
		bearer.WriteJSON(w, upstreamError())
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, MaxTokenResponseBytes+1))
	if err == nil && len(out) > MaxTokenResponseBytes {
		err = errors.New("token response exceeds size limit")
	}
	if err != nil {
		b.log.Error("cimd token: bad cognito answer", "client_id", clientID, "err", err)
		bearer.WriteJSON(w, upstreamError())
		return
	}
	b.log.Info("cimd token forwarded", "client_id", clientID, "status", resp.StatusCode)
	h := w.Header()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

func upstreamError() *bearer.Error {
	return &bearer.Error{Status: http.StatusBadGateway, Code: codeServerError,
		Description: "the authorization server could not be reached"}
}
