package devidp

import (
	"net/http"
	"slices"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// metadata is the RFC 8414 §2 document, with the OpenID Connect Discovery
// 1.0 §3 members that make it usable as an openid-configuration too, and
// client_id_metadata_document_supported (CIMD draft §5): clients such as
// Claude Code then use their document URL as client_id instead of
// registering; "none" is among the token endpoint auth methods, which
// Claude also requires before it uses CIMD.
func (s *Server) metadata() oauthmeta.AuthorizationServerMetadata {
	scopes := append([]string{}, s.scopes...) // [] rather than null when empty
	authMethods := []string{authNone, authBasic, authPost}
	return oauthmeta.AuthorizationServerMetadata{
		Issuer:                                 s.issuer,
		AuthorizationEndpoint:                  s.issuer + "/authorize",
		TokenEndpoint:                          s.issuer + "/token",
		RegistrationEndpoint:                   s.issuer + "/register",
		JWKSURI:                                s.issuer + "/jwks",
		RevocationEndpoint:                     s.issuer + "/revoke",
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials, grantTokenExchange},
		CodeChallengeMethodsSupported:          []string{"S256"},
		TokenEndpointAuthMethodsSupported:      authMethods,
		RevocationEndpointAuthMethodsSupported: slices.Clone(authMethods),
		ScopesSupported:                        scopes,
		SubjectTypesSupported:                  []string{"public"},
		IDTokenSigningAlgValuesSupported:       []string{"RS256"},
		AuthorizationResponseIssParameter:      true,
		ClientIDMetadataDocumentSupported:      true,
	}
}

// handleMetadata serves RFC 8414 §3 metadata; the same document answers
// /.well-known/openid-configuration.
func (s *Server) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.metadata())
}

// handleJWKS serves the public signing keys (RFC 7517 §5).
func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.pubSet)
}
