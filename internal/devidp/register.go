package devidp

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strconv"
)

// registration is the RFC 7591 §2 client metadata this server understands,
// echoed back in the §3.2.1 response. Other members are ignored, as §2
// requires.
type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	Contacts                []string `json:"contacts,omitempty"`
	TOSURI                  string   `json:"tos_uri,omitempty"`
	PolicyURI               string   `json:"policy_uri,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
}

// registrationResponse is the RFC 7591 §3.2.1 client information response.
type registrationResponse struct {
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
	registration
}

// handleRegister implements RFC 7591 §3 dynamic client registration, open to
// anyone (no initial access token) but local-only. Rules: redirect_uris
// required and each valid per validateRedirectURI (loopback or a private-use
// scheme; an https web redirect such as claude.ai's is refused with
// invalid_redirect_uri, RFC 7591 §3.2.2); grant_types a subset of authorization_code
// and refresh_token containing authorization_code (default
// [authorization_code]); response_types only "code"; token_endpoint_auth_method
// none (the default here, unlike RFC 7591's client_secret_basic),
// client_secret_basic or client_secret_post, the latter two receiving a
// client_secret that never expires. The scope member is echoed but NOT
// enforced; URIs such as client_uri are NOT validated; RFC 7592 management
// and software statements are NOT supported.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, newErr(errInvalidClientMetadata, "content type must be application/json"))
			return
		}
	}
	var reg registration
	if err := json.NewDecoder(r.Body).Decode(&reg); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, &oauthError{Code: errInvalidClientMetadata, Description: "request body too large", Status: http.StatusRequestEntityTooLarge})
			return
		}
		writeError(w, newErr(errInvalidClientMetadata, "body is not valid client metadata JSON"))
		return
	}
	if e := checkRegistration(&reg); e != nil {
		s.log.Info("devidp: registration refused", "error", e.Code, "description", e.Description)
		writeError(w, e)
		return
	}
	c := &client{
		ID:           randomToken(),
		Name:         reg.ClientName,
		RedirectURIs: reg.RedirectURIs,
		GrantTypes:   reg.GrantTypes,
		AuthMethod:   reg.TokenEndpointAuthMethod,
		IssuedAt:     s.now().Unix(),
	}
	resp := registrationResponse{ClientID: c.ID, ClientIDIssuedAt: c.IssuedAt, registration: reg}
	if !c.public() {
		c.Secret = randomToken()
		never := int64(0)
		resp.ClientSecret, resp.ClientSecretExpiresAt = c.Secret, &never
	}
	s.addClient(c)
	s.log.Info("devidp: client registered", "client_id", c.ID, "client_name", c.Name, "auth_method", c.AuthMethod)
	writeJSON(w, http.StatusCreated, resp)
}

// checkRegistration validates reg and fills in defaults (RFC 7591 §2).
func checkRegistration(reg *registration) *oauthError {
	if len(reg.RedirectURIs) == 0 {
		return newErr(errInvalidRedirectURI, "redirect_uris is required")
	}
	if len(reg.RedirectURIs) > maxRedirectURIs {
		return newErr(errInvalidRedirectURI, "at most "+strconv.Itoa(maxRedirectURIs)+" redirect_uris")
	}
	for _, u := range reg.RedirectURIs {
		if err := validateRedirectURI(u); err != nil {
			return newErr(errInvalidRedirectURI, "redirect_uri "+strconv.Quote(u)+": "+err.Error())
		}
	}
	switch reg.TokenEndpointAuthMethod {
	case "":
		reg.TokenEndpointAuthMethod = authNone
	case authNone, authBasic, authPost:
	default:
		return newErr(errInvalidClientMetadata, "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	if len(reg.GrantTypes) == 0 {
		reg.GrantTypes = []string{grantAuthorizationCode}
	}
	for _, g := range reg.GrantTypes {
		if g != grantAuthorizationCode && g != grantRefreshToken {
			return newErr(errInvalidClientMetadata, "grant_types may contain only authorization_code and refresh_token")
		}
	}
	if !slices.Contains(reg.GrantTypes, grantAuthorizationCode) {
		return newErr(errInvalidClientMetadata, "grant_types must include authorization_code")
	}
	if len(reg.ResponseTypes) == 0 {
		reg.ResponseTypes = []string{"code"}
	}
	for _, rt := range reg.ResponseTypes {
		if rt != "code" {
			return newErr(errInvalidClientMetadata, "response_types may contain only code")
		}
	}
	return nil
}
