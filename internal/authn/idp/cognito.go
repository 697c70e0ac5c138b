package idp

// cognito describes Amazon Cognito user-pool access tokens:
// iss=https://cognito-idp.<region>.amazonaws.com/<pool>, token_use=access,
// client_id, space-separated scope (custom scopes are
// "<resource-server-id>/<name>"), username, sub, and no aud unless the RFC
// 8707 resource parameter was used. Cognito ID tokens carry token_use=id and
// aud=<client id>; they are rejected by the token_use marker.
func cognito() Profile {
	return Profile{
		Name:                 "cognito",
		ScopeClaims:          []string{"scope"},
		ClientIDClaims:       []string{"client_id"},
		RequireClientID:      true,
		UsernameClaims:       []string{"username"},
		RequiredClaims:       map[string]string{"token_use": "access"},
		ForbiddenClaims:      idTokenClaims(),
		ForbiddenClaimValues: map[string][]string{"token_use": {"id"}},
		AudienceOptional:     true,
		TypHeaders:           defaultTyps(),
	}
}
