package idp

// okta describes Okta custom-authorization-server access tokens: aud as
// configured on the server, scopes in "scp" (array), client id in "cid",
// user id in "uid", and "sub" holding the user's login (usually an email),
// which is used as the username. Okta ID tokens carry no "cid".
func okta() Profile {
	return Profile{
		Name:            "okta",
		ScopeClaims:     []string{"scp"},
		ClientIDClaims:  []string{"cid"},
		RequireClientID: true,
		UsernameClaims:  []string{"sub"},
		ForbiddenClaims: idTokenClaims(),
		TypHeaders:      defaultTyps(),
	}
}
