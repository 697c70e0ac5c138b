package oauthmeta

// ProtectedResourceMetadata is the RFC 9728 §2 document a protected resource
// publishes. Only the members this project uses are typed; RFC 9728 §2 allows
// more, and unknown members are not preserved when decoding.
type ProtectedResourceMetadata struct {
	// Resource is the resource identifier (RFC 9728 §2, REQUIRED). It must
	// equal the identifier the metadata URL was built from (RFC 9728 §3.3).
	Resource string `json:"resource"`
	// AuthorizationServers lists issuer identifiers of authorization servers
	// that can issue tokens for this resource.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// JWKSURI is the resource's own key set; unused by this project.
	JWKSURI string `json:"jwks_uri,omitempty"`
	// ScopesSupported lists scopes used in authorization requests for the
	// resource. MCP clients use it when the challenge names no scope.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported lists how a bearer token may be sent (RFC 6750);
	// this project accepts only "header".
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceName is a human-readable name for the resource.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation is a URL of human-readable documentation.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
}

// AuthorizationServerMetadata is the RFC 8414 §2 document (plus the OpenID
// Connect Discovery and MCP members clients read). Members not listed here are
// dropped when decoding.
type AuthorizationServerMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                          string   `json:"token_endpoint,omitempty"`
	JWKSURI                                string   `json:"jwks_uri,omitempty"`
	RegistrationEndpoint                   string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                     string   `json:"revocation_endpoint,omitempty"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	UserinfoEndpoint                       string   `json:"userinfo_endpoint,omitempty"`
	ScopesSupported                        []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                 []string `json:"response_types_supported,omitempty"`
	ResponseModesSupported                 []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                    []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported,omitempty"`
	SubjectTypesSupported                  []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported,omitempty"`
	AuthorizationResponseIssParameter      bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported,omitempty"`
	ProtectedResourcesSupported            []string `json:"protected_resources,omitempty"`
	ServiceDocumentation                   string   `json:"service_documentation,omitempty"`
}
