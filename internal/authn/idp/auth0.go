package idp

// auth0 describes Auth0 access tokens: aud is the API identifier (a string,
// or an array that adds the /userinfo URL), "scope" is a space-separated
// string, RBAC "permissions" is an array, the client is in "azp", and "gty"
// names the grant. Auth0 has no standard username claim in access tokens.
func auth0() Profile {
	return Profile{
		Name:            "auth0",
		ScopeClaims:     []string{"scope", "permissions"},
		ClientIDClaims:  []string{"azp", "client_id"},
		RequireClientID: true,
		ForbiddenClaims: idTokenClaims(),
		TypHeaders:      defaultTyps(),
	}
}
