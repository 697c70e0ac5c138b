package idp

// cognito describes Amazon Cognito user-pool access tokens:
// iss=https://cognito-idp.<region>.amazonaws.com/<pool>, token_use=access,
// client_id, space-separated scope (custom scopes are
// "<resource-server-id>/<name>"), username, sub.
//
// aud is present only when the client sent an RFC 8707 resource parameter
// to /oauth2/authorize through managed login (Essentials or Plus plan): it
// is then that one URL, as a JSON string, and refreshes keep it. Tokens from
// the classic hosted UI or a Lite pool, from SDK sign-in (InitiateAuth), from
// client credentials, or from clients that omit resource carry no aud; the
// verifier refuses them unless its policy sets InsecureAllowMissingAudience.
// The binding does not narrow scope: aud and scopes are both checked.
//
// Cognito ID tokens carry token_use=id and aud=<client id>; they are
// rejected by the token_use marker.
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
		MayOmitAudience:      true,
		TypHeaders:           defaultTyps(),
	}
}
