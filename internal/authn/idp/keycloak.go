package idp

// keycloak describes Keycloak access tokens: iss=<base>/realms/<realm>, aud
// only through audience mappers (string or array), client in "azp",
// space-separated "scope", "preferred_username", and the claim typ="Bearer".
// Keycloak ID, refresh and logout tokens carry typ "ID", "Refresh",
// "Logout" and are rejected by the typ marker.
func keycloak() Profile {
	return Profile{
		Name:            "keycloak",
		ScopeClaims:     []string{"scope"},
		ClientIDClaims:  []string{"azp", "client_id"},
		RequireClientID: true,
		UsernameClaims:  []string{"preferred_username"},
		RequiredClaims:  map[string]string{"typ": "Bearer"},
		ForbiddenClaims: idTokenClaims(),
		ForbiddenClaimValues: map[string][]string{
			"typ": {"ID", "Refresh", "Offline", "Logout"},
		},
		TypHeaders: defaultTyps(),
	}
}
