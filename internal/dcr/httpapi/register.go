package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// serveRegister is RFC 7591 §3.1: POST /register with a JSON body of client
// metadata. In order: CORS preflight, method, per-source rate limit (429),
// initial access token when configured (401), Content-Type
// application/json (415), body size (413), JSON syntax (400
// invalid_client_metadata), then the service's rules. Success is 201 with
// the §3.2.1 client information response and Cache-Control: no-store.
// Every POST's outcome is counted (Metrics.Registration, see
// dcr.RegistrationOutcome), the refusals before the service included.
// Software statements (§2.3) are NOT supported: the member is ignored.
func (h *Handler) serveRegister(w http.ResponseWriter, r *http.Request) {
	registrationCORS(w)
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		methodNotAllowed(w, "POST, OPTIONS")
		return
	}
	if !h.allow(w, r, dcr.EndpointRegister) {
		h.metrics.Registration(dcr.ResultRefused, dcr.ReasonRateLimited)
		return
	}
	if h.opts.InitialAccessToken != "" {
		if be := h.checkInitialAccessToken(r); be != nil {
			h.metrics.Registration(dcr.RegistrationOutcome(nil, be))
			writeError(w, be)
			return
		}
	}
	var md oauthmeta.ClientMetadata
	if be := h.decodeJSON(w, r, &md); be != nil {
		h.metrics.Registration(dcr.RegistrationOutcome(nil, be))
		writeError(w, be)
		return
	}
	res, err := h.opts.Service.Register(r.Context(), md)
	h.metrics.Registration(dcr.RegistrationOutcome(res, err))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	uri := ""
	if res.RegistrationAccessToken != "" {
		uri = h.clientURI(res.Registration.ClientID)
	}
	h.log.Info("httpapi: client registered", "client_id", res.Registration.ClientID,
		"reused", res.Reused, "remote", h.source(r))
	writeJSON(w, http.StatusCreated, dcr.ClientInfo(res, uri))
}

// updateRequest is the RFC 7592 §2.2 body: the client's metadata plus its
// client_id (required, equal to the path's) and optionally client_secret;
// the members §2.2 forbids are detected to be refused.
type updateRequest struct {
	ClientID                string  `json:"client_id"`
	ClientSecret            string  `json:"client_secret"`
	RegistrationAccessToken *string `json:"registration_access_token"`
	RegistrationClientURI   *string `json:"registration_client_uri"`
	ClientSecretExpiresAt   *int64  `json:"client_secret_expires_at"`
	ClientIDIssuedAt        *int64  `json:"client_id_issued_at"`
	oauthmeta.ClientMetadata
}

// serveClient is RFC 7592 §2: GET reads (200), PUT replaces the metadata
// (200) and DELETE removes the client (204), each authorized by the
// registration access token as a Bearer token; the service compares it in
// constant time and answers 401 invalid_token for a wrong token or an
// unknown client alike. A PUT body must carry the client's client_id; its
// client_id and client_secret go to the service, which requires them to
// match the registration.
func (h *Handler) serveClient(w http.ResponseWriter, r *http.Request, clientID string) {
	registrationCORS(w)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPut && r.Method != http.MethodDelete {
		methodNotAllowed(w, "GET, PUT, DELETE, OPTIONS")
		return
	}
	if !h.allow(w, r, dcr.EndpointRegisterManage) {
		return
	}
	rat, be := bearer.ExtractToken(r)
	if be != nil {
		if be == bearer.ErrNoToken {
			be = bearer.ErrInvalidToken("a registration access token is required (Authorization: Bearer)")
		}
		writeError(w, be)
		return
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		res, err := h.opts.Service.Read(ctx, clientID, rat)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, dcr.ClientInfo(res, h.clientURI(clientID)))
	case http.MethodPut:
		var req updateRequest
		if be := h.decodeJSON(w, r, &req); be != nil {
			writeError(w, be)
			return
		}
		if be := checkUpdate(req); be != nil {
			writeError(w, be)
			return
		}
		res, err := h.opts.Service.Update(ctx, clientID, rat, req.ClientMetadata,
			dcr.BodyCredentials{ClientID: req.ClientID, ClientSecret: req.ClientSecret})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.log.Info("httpapi: client updated", "client_id", clientID, "remote", h.source(r))
		writeJSON(w, http.StatusOK, dcr.ClientInfo(res, h.clientURI(clientID)))
	case http.MethodDelete:
		if err := h.opts.Service.Delete(ctx, clientID, rat); err != nil {
			h.fail(w, r, err)
			return
		}
		h.log.Info("httpapi: client deleted", "client_id", clientID, "remote", h.source(r))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// checkUpdate applies RFC 7592 §2.2's rules on the body's own members:
// client_id present, the server-issued members absent. That client_id
// equals the path's is the service's check.
func checkUpdate(req updateRequest) *bearer.Error {
	switch {
	case req.ClientID == "":
		return dcr.ErrInvalidClientMetadata("client_id is required in an update request (RFC 7592 section 2.2)")
	case req.RegistrationAccessToken != nil, req.RegistrationClientURI != nil,
		req.ClientSecretExpiresAt != nil, req.ClientIDIssuedAt != nil:
		return dcr.ErrInvalidClientMetadata("registration_access_token, registration_client_uri, " +
			"client_secret_expires_at and client_id_issued_at must not be sent (RFC 7592 section 2.2)")
	}
	return nil
}

// checkInitialAccessToken requires Authorization: Bearer <IAT> (RFC 7591
// §3). Both sides are hashed before the constant-time comparison, so
// neither content nor length leaks through timing.
func (h *Handler) checkInitialAccessToken(r *http.Request) *bearer.Error {
	tok, be := bearer.ExtractToken(r)
	if be == bearer.ErrNoToken {
		return bearer.ErrInvalidToken("an initial access token is required (Authorization: Bearer)")
	}
	if be != nil {
		return be
	}
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(h.opts.InitialAccessToken))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return bearer.ErrInvalidToken("the initial access token is not valid")
	}
	return nil
}

// decodeJSON reads a JSON object body of at most MaxBodyBytes into v: 415
// for another media type, 413 past the cap, 400 invalid_client_metadata for
// anything that is not one JSON object of the right member types.
func (h *Handler) decodeJSON(w http.ResponseWriter, r *http.Request, v any) *bearer.Error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &bearer.Error{Status: http.StatusUnsupportedMediaType, Code: dcr.CodeInvalidClientMetadata,
			Description: "Content-Type must be application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &bearer.Error{Status: http.StatusRequestEntityTooLarge, Code: dcr.CodeInvalidClientMetadata,
				Description: fmt.Sprintf("the request body exceeds %d bytes", h.opts.MaxBodyBytes)}
		}
		return bearer.ErrInvalidRequest("the request body could not be read")
	}
	if t := strings.TrimLeft(string(body), " \t\r\n"); !strings.HasPrefix(t, "{") {
		return dcr.ErrInvalidClientMetadata("the body must be a JSON object of client metadata")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return dcr.ErrInvalidClientMetadata(fmt.Sprintf("%s must be a JSON %s", te.Field, jsonKind(te.Type.Kind().String())))
		}
		return dcr.ErrInvalidClientMetadata("the body is not valid JSON")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "array"
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	default:
		return "number"
	}
}

// clientURI is the RFC 7592 §1 registration client URI of clientID.
func (h *Handler) clientURI(clientID string) string {
	return h.opts.PublicURL + "/register/" + url.PathEscape(clientID)
}

// registrationCORS lets browser-based clients (the MCP Inspector) register
// and manage clients. No cookies are involved: credentials are explicit
// Bearer tokens, so any origin may call.
func registrationCORS(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "POST, GET, PUT, DELETE, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
	hd.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
	hd.Set("Access-Control-Max-Age", "600")
}

// writeJSON writes a successful JSON answer that must not be cached: it
// carries secrets (RFC 7591 §3.2.1 and RFC 6749 §5.1 ask for no-store).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		bearer.WriteJSON(w, &bearer.Error{Status: http.StatusInternalServerError, Code: dcr.CodeServerError,
			Description: "internal error"})
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
