package idp

// generic describes RFC 9068 JWT access tokens from any OIDC issuer:
// "scope" string or "scp", client in "client_id" (RFC 9068 §2.2) or "azp".
// It also rejects the ID-token markers other providers use (Cognito
// token_use=id, Keycloak typ=ID) because an unknown issuer may be either.
func generic() Profile {
	return Profile{
		Name:            "generic",
		ScopeClaims:     []string{"scope", "scp"},
		ClientIDClaims:  []string{"client_id", "azp"},
		RequireClientID: true,
		UsernameClaims:  []string{"preferred_username", "username"},
		ForbiddenClaims: idTokenClaims(),
		ForbiddenClaimValues: map[string][]string{
			"token_use": {"id", "refresh"},
			"typ":       {"ID", "Refresh", "Offline", "Logout"},
		},
		TypHeaders: defaultTyps(),
	}
}
