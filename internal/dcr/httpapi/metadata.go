package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Metadata builds the RFC 8414 §2 document (with the OpenID Connect
// Discovery §3 members Cognito's pool supports): issuer is PublicURL, so a
// client that discovered this service through the gateway's
// authorization_servers finds the issuer it expects (RFC 8414 §3.3);
// authorization and token endpoints are the CIMD bridge's when one is
// mounted, else Cognito's managed login; keys, revocation and userinfo are
// Cognito's. scopes_supported never lists offline_access (Cognito has no
// such scope). grant_types_supported follows the registration policy
// (client_credentials only when it is allowed); code_challenge_methods_supported
// is S256 alone, which the bridge's /authorize enforces; and
// authorization_response_iss_parameter_supported (RFC 9207) is never
// advertised, because Cognito's authorization responses carry no iss.
// Not checked: that Cognito's endpoints answer.
func (h *Handler) Metadata(ctx context.Context) oauthmeta.AuthorizationServerMetadata {
	o := h.opts
	authz, token := o.CognitoDomain+"/oauth2/authorize", o.CognitoDomain+"/oauth2/token"
	if o.Bridge != nil {
		authz, token = o.PublicURL+"/authorize", o.PublicURL+"/token"
	}
	return oauthmeta.AuthorizationServerMetadata{
		Issuer:                            o.PublicURL,
		AuthorizationEndpoint:             authz,
		TokenEndpoint:                     token,
		RegistrationEndpoint:              o.PublicURL + "/register",
		JWKSURI:                           o.JWKSURI,
		RevocationEndpoint:                o.CognitoDomain + "/oauth2/revoke",
		UserinfoEndpoint:                  o.CognitoDomain + "/oauth2/userInfo",
		ScopesSupported:                   h.scopesSupported(ctx),
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               h.grantTypes(),
		CodeChallengeMethodsSupported:     []string{"S256"},
		TokenEndpointAuthMethodsSupported: []string{"none", "client_secret_basic", "client_secret_post"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ClientIDMetadataDocumentSupported: o.Bridge != nil,
	}
}

// grantTypes is grant_types_supported (RFC 8414 §2): what registration
// admits.
func (h *Handler) grantTypes() []string {
	g := []string{"authorization_code", "refresh_token"}
	if h.opts.AllowClientCredentials {
		g = append(g, "client_credentials")
	}
	return g
}

// scopesTimeout bounds one Scopes call (metadata requests wait for it).
const scopesTimeout = 5 * time.Second

// scopesSupported returns the cached scopes, refreshing them once per
// ScopesTTL; a failed refresh keeps the previous answer (and is retried
// after another ScopesTTL).
func (h *Handler) scopesSupported(ctx context.Context) []string {
	if h.opts.Scopes == nil {
		return nil
	}
	h.scopesMu.Lock()
	defer h.scopesMu.Unlock()
	now := h.opts.Now()
	if h.scopesSet && now.Sub(h.scopesAt) < h.opts.ScopesTTL {
		return h.scopes
	}
	ctx, cancel := context.WithTimeout(ctx, scopesTimeout)
	defer cancel()
	scopes, err := h.opts.Scopes(ctx)
	h.scopesAt, h.scopesSet = now, true
	if err != nil {
		h.log.Warn("httpapi: scopes_supported unavailable; serving the last known", "error", err)
		return h.scopes
	}
	h.scopes = slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == "offline_access" || s == "" })
	if len(h.scopes) == 0 {
		h.scopes = nil
	}
	return h.scopes
}

// serveMetadata answers GET/HEAD with the metadata, readable from any
// origin (it is public; browser-based clients fetch it), cacheable briefly.
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Content-Type, MCP-Protocol-Version")
	switch r.Method {
	case http.MethodOptions:
		hd.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodHead:
	default:
		methodNotAllowed(w, "GET, HEAD, OPTIONS")
		return
	}
	body, err := json.MarshalIndent(h.Metadata(r.Context()), "", "  ")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(append(body, '\n'))
	}
}
