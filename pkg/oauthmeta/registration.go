package oauthmeta

// ClientMetadata is the RFC 7591 §2 client metadata a client sends in a
// registration request (and receives back, completed). Members not listed
// are dropped when decoding (RFC 7591 §2: a server ignores what it does not
// understand).
type ClientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	Contacts                []string `json:"contacts,omitempty"`
	TosURI                  string   `json:"tos_uri,omitempty"`
	PolicyURI               string   `json:"policy_uri,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
	// ApplicationType is "native" or "web" (OpenID Connect Dynamic Client
	// Registration 1.0 §2; MCP 2026-07-28 registrations and Client ID
	// Metadata Documents carry it). Decoding does not check the value.
	ApplicationType string `json:"application_type,omitempty"`
}

// ClientInformation is the RFC 7591 §3.2.1 registration response, with the
// RFC 7592 §3 management members.
type ClientInformation struct {
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
	// RegistrationAccessToken and RegistrationClientURI are RFC 7592 §3.
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri,omitempty"`
	ClientMetadata
}
