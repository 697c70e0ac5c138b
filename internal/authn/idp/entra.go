package idp

// entra describes Microsoft Entra ID access tokens for an API.
// v2.0: iss=https://login.microsoftonline.com/<tid>/v2.0, aud = the app's
// client id GUID or app ID URI, "scp" space-separated (delegated), "roles"
// array (application permissions), "azp", "oid", "tid", ver "2.0".
// v1.0: iss=https://sts.windows.net/<tid>/, "appid", "scp", ver "1.0".
// Entra ID tokens carry neither azp nor appid, so RequireClientID rejects
// them. The issuer string (v1 or v2) is configuration, not profile.
func entra() Profile {
	return Profile{
		Name:            "entra",
		ScopeClaims:     []string{"scp", "roles"},
		ClientIDClaims:  []string{"azp", "appid"},
		RequireClientID: true,
		UsernameClaims:  []string{"preferred_username", "upn", "unique_name"},
		ForbiddenClaims: idTokenClaims(),
		TypHeaders:      defaultTyps(),
	}
}
