package authn_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// TestProfiles verifies realistic token shapes of each IdP (claims as the
// providers document them) and their ID tokens, which must be rejected.
// Issuers are the providers' real forms; keys are the test issuer's.
func TestProfiles(t *testing.T) {
	iss := authntest.NewIssuer(t)
	keys := issuerKeys(t, iss)
	const (
		exp      = 4102444800
		iat      = 1700000000
		cogIss   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
		oktaIss  = "https://dev-1.okta.com/oauth2/default"
		auth0Iss = "https://tenant.eu.auth0.com/"
		entraV2  = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
		entraV1  = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
		kcIss    = "https://kc.example.com/realms/acme"
		appGUID  = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	)
	type want struct {
		sub, client, user string
		scopes            []string
	}
	tests := []struct {
		name      string
		prof      string
		issuer    string
		audiences []string
		ids       authn.ClientIDAllower
		claims    map[string]any
		want      *want // nil: must be rejected
	}{
		{"cognito_access", "cognito", cogIss, []string{"https://mcp.example.com/mcp"}, authn.StaticClientIDs{"3n4b5urk1ft4fl3mg5e62d9ado"}, map[string]any{
			"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "iss": cogIss, "client_id": "3n4b5urk1ft4fl3mg5e62d9ado", "aud": "https://mcp.example.com/mcp",
			"origin_jti": "x", "event_id": "y", "token_use": "access", "scope": "openid aws.cognito.signin.user.admin mcp/tools.read",
			"auth_time": iat, "exp": exp, "iat": iat, "jti": "j", "username": "alice"},
			&want{"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "3n4b5urk1ft4fl3mg5e62d9ado", "alice", []string{"openid", "aws.cognito.signin.user.admin", "mcp/tools.read"}}},
		{"cognito_id_token", "cognito", cogIss, []string{"3n4b5urk1ft4fl3mg5e62d9ado"}, authn.StaticClientIDs{"3n4b5urk1ft4fl3mg5e62d9ado"}, map[string]any{
			"sub": "s", "aud": "3n4b5urk1ft4fl3mg5e62d9ado", "email_verified": true, "token_use": "id", "auth_time": iat,
			"iss": cogIss, "cognito:username": "alice", "exp": exp, "iat": iat, "email": "a@example.com"}, nil},
		{"okta_access", "okta", oktaIss, []string{"api://default"}, nil, map[string]any{
			"ver": 1, "jti": "AT.x", "iss": oktaIss, "aud": "api://default", "iat": iat, "exp": exp,
			"cid": "0oa1b2c3", "uid": "00u1b2c3", "scp": []string{"openid", "mcp:read"}, "auth_time": iat, "sub": "alice@example.com"},
			&want{"alice@example.com", "0oa1b2c3", "alice@example.com", []string{"openid", "mcp:read"}}},
		{"okta_id_token", "okta", oktaIss, []string{"0oa1b2c3"}, nil, map[string]any{
			"sub": "00u1b2c3", "ver": 1, "iss": oktaIss, "aud": "0oa1b2c3", "iat": iat, "exp": exp, "jti": "ID.x",
			"amr": []string{"pwd"}, "idp": "x", "nonce": "n", "auth_time": iat, "at_hash": "h"}, nil},
		{"auth0_access", "auth0", auth0Iss, []string{"https://mcp.example.com/mcp"}, nil, map[string]any{
			"iss": auth0Iss, "sub": "auth0|123", "aud": []string{"https://mcp.example.com/mcp", "https://tenant.eu.auth0.com/userinfo"},
			"iat": iat, "exp": exp, "scope": "openid profile mcp:read", "azp": "AbC123", "permissions": []string{"mcp:read", "mcp:admin"}, "gty": "password"},
			&want{"auth0|123", "AbC123", "", []string{"openid", "profile", "mcp:read", "mcp:admin"}}},
		{"auth0_m2m", "auth0", auth0Iss, []string{"https://mcp.example.com/mcp"}, nil, map[string]any{
			"iss": auth0Iss, "sub": "AbC123@clients", "aud": "https://mcp.example.com/mcp", "iat": iat, "exp": exp,
			"scope": "mcp:read", "gty": "client-credentials", "azp": "AbC123"},
			&want{"AbC123@clients", "AbC123", "", []string{"mcp:read"}}},
		{"auth0_id_token", "auth0", auth0Iss, []string{"AbC123"}, nil, map[string]any{
			"iss": auth0Iss, "sub": "auth0|123", "aud": "AbC123", "iat": iat, "exp": exp, "nonce": "n", "sid": "s"}, nil},
		{"entra_v2_access", "entra", entraV2, []string{appGUID, "api://mcp"}, nil, map[string]any{
			"aud": appGUID, "iss": entraV2, "iat": iat, "nbf": iat, "exp": exp, "azp": "c0ffee00-0000-0000-0000-000000000000",
			"azpacr": "0", "name": "Alice", "oid": "o", "preferred_username": "alice@contoso.com", "rh": "r", "scp": "mcp.read mcp.write",
			"sub": "pairwise-sub", "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "uti": "u", "ver": "2.0"},
			&want{"pairwise-sub", "c0ffee00-0000-0000-0000-000000000000", "alice@contoso.com", []string{"mcp.read", "mcp.write"}}},
		{"entra_v2_app_roles", "entra", entraV2, []string{"api://mcp"}, nil, map[string]any{
			"aud": "api://mcp", "iss": entraV2, "iat": iat, "exp": exp, "azp": "daemon-app", "oid": "o",
			"roles": []string{"Tools.Invoke"}, "sub": "o", "tid": "t", "ver": "2.0"},
			&want{"o", "daemon-app", "", []string{"Tools.Invoke"}}},
		{"entra_v1_access", "entra", entraV1, []string{"api://mcp"}, nil, map[string]any{
			"aud": "api://mcp", "iss": entraV1, "iat": iat, "exp": exp, "appid": "legacy-app", "scp": "user_impersonation",
			"upn": "alice@contoso.com", "sub": "s", "tid": "t", "ver": "1.0"},
			&want{"s", "legacy-app", "alice@contoso.com", []string{"user_impersonation"}}},
		{"entra_v2_id_token", "entra", entraV2, []string{appGUID}, nil, map[string]any{
			"aud": appGUID, "iss": entraV2, "iat": iat, "exp": exp, "name": "Alice", "oid": "o",
			"preferred_username": "alice@contoso.com", "sub": "s", "tid": "t", "ver": "2.0"}, nil},
		{"keycloak_access", "keycloak", kcIss, []string{"mcp-gateway"}, nil, map[string]any{
			"exp": exp, "iat": iat, "jti": "j", "iss": kcIss, "aud": []string{"mcp-gateway", "account"}, "sub": "kc-sub",
			"typ": "Bearer", "azp": "mcp-client", "scope": "openid profile mcp:read", "preferred_username": "alice"},
			&want{"kc-sub", "mcp-client", "alice", []string{"openid", "profile", "mcp:read"}}},
		{"keycloak_id_token", "keycloak", kcIss, []string{"mcp-client"}, nil, map[string]any{
			"exp": exp, "iat": iat, "iss": kcIss, "aud": "mcp-client", "sub": "kc-sub", "typ": "ID", "azp": "mcp-client",
			"preferred_username": "alice"}, nil},
		{"keycloak_no_typ", "keycloak", kcIss, []string{"mcp-gateway"}, nil, map[string]any{
			"exp": exp, "iat": iat, "iss": kcIss, "aud": "mcp-gateway", "sub": "kc-sub", "azp": "mcp-client"}, nil},
		{"generic_rfc9068", "generic", "https://as.example.com", []string{"https://mcp.example.com/mcp"}, nil, map[string]any{
			"iss": "https://as.example.com", "exp": exp, "aud": "https://mcp.example.com/mcp", "sub": "5ba552d67",
			"client_id": "s6BhdRkqt3", "iat": iat, "jti": "dbe39bf3a3ba4238a513f51d6e1691c4", "scope": "openid mcp:read"},
			&want{"5ba552d67", "s6BhdRkqt3", "", []string{"openid", "mcp:read"}}},
		{"generic_scp_azp", "generic", "https://as.example.com", []string{"https://mcp.example.com/mcp"}, nil, map[string]any{
			"iss": "https://as.example.com", "exp": exp, "aud": "https://mcp.example.com/mcp", "sub": "s",
			"azp": "c", "scp": []string{"a", "b"}}, &want{"s", "c", "", []string{"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := authn.NewVerifier(keys, authn.Policy{Issuer: tt.issuer, Audiences: tt.audiences, ClientIDs: tt.ids, Profile: profile(t, tt.prof)})
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), iss.Mint(tt.claims))
			if tt.want == nil {
				if !errors.Is(err, authn.ErrInvalidToken) {
					t.Fatalf("want rejection, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			got := want{p.Subject, p.ClientID, p.Username, p.Scopes}
			if !reflect.DeepEqual(&got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, *tt.want)
			}
		})
	}
}

// TestCognitoAudienceBinding checks Cognito access tokens shaped as AWS
// documents them (amazon-cognito-user-pools-using-the-access-token.html):
// with RFC 8707 resource binding (managed login, Essentials/Plus) aud is the
// one requested URL as a string; without it there is no aud (also SDK
// sign-in, which moto emulates: scope aws.cognito.signin.user.admin only).
// A token without aud passes only with InsecureAllowMissingAudience and a
// registered client; a token with aud must name the route's resource.
func TestCognitoAudienceBinding(t *testing.T) {
	iss := authntest.NewIssuer(t)
	keys := issuerKeys(t, iss)
	const (
		pool       = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
		resource   = "https://mcp.example.com/mcp"
		registered = "3n4b5urk1ft4fl3mg5e62d9ado"
	)
	// managedLogin is the documented sample payload with the gateway's
	// resource bound and its resource server's scope.
	managedLogin := map[string]any{
		"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "cognito:groups": []string{"testgroup"}, "iss": pool,
		"version": 2, "client_id": registered, "aud": resource, "origin_jti": "o", "event_id": "e",
		"token_use": "access", "scope": "openid profile " + resource + "/tools", "auth_time": 1700000000,
		"exp": 4102444800, "iat": 1700000000, "jti": "j", "username": "alice",
	}
	// sdkSignIn is what InitiateAuth issues (and moto 5.2.1 mints): no aud.
	sdkSignIn := map[string]any{
		"iss": pool, "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "client_id": registered, "token_use": "access",
		"scope": "aws.cognito.signin.user.admin", "iat": 1700000000, "auth_time": 1700000000,
		"exp": 4102444800, "jti": "j", "username": "alice",
	}
	with := func(base map[string]any, set map[string]any, del ...string) map[string]any {
		c := maps.Clone(base)
		maps.Copy(c, set)
		for _, k := range del {
			delete(c, k)
		}
		return c
	}
	noAud := with(managedLogin, nil, "aud")
	allow := authn.StaticClientIDs{registered}
	tests := []struct {
		name     string
		claims   map[string]any
		ids      authn.ClientIDAllower
		insecure bool   // Policy.InsecureAllowMissingAudience
		reason   string // "" accepted; else a substring of the refusal
	}{
		{"bound_to_resource", managedLogin, allow, false, ""},
		{"bound_to_resource_insecure_on", managedLogin, allow, true, ""},
		{"bound_to_resource_no_allowlist", managedLogin, nil, false, ""},
		{"bound_trailing_slash", with(managedLogin, map[string]any{"aud": resource + "/"}), allow, false, ""},
		{"bound_as_array", with(managedLogin, map[string]any{"aud": []string{resource}}), allow, false, ""},
		{"bound_array_other_first", with(managedLogin, map[string]any{"aud": []string{"https://api.example.com", resource}}), allow, false, ""},
		{"bound_to_other_resource", with(managedLogin, map[string]any{"aud": "https://api.example.com"}), allow, false, `"aud" does not name this resource`},
		{"bound_to_other_resource_insecure_on", with(managedLogin, map[string]any{"aud": "https://api.example.com"}), allow, true, `"aud" does not name this resource`},
		{"bound_to_other_route", with(managedLogin, map[string]any{"aud": "https://mcp.example.com/mcp/admin"}), allow, true, `"aud" does not name this resource`},
		{"bound_array_of_others", with(managedLogin, map[string]any{"aud": []string{"https://api.example.com"}}), allow, true, `"aud" does not name this resource`},
		{"bound_client_not_registered", with(managedLogin, map[string]any{"client_id": "7rogue0000000000000000000"}), allow, false, "client id is not allowed"},
		{"unbound_registered", noAud, allow, false, `"aud" is missing`},
		{"unbound_registered_insecure_on", noAud, allow, true, ""},
		{"unbound_not_registered_insecure_on", with(noAud, map[string]any{"client_id": "7rogue0000000000000000000"}), allow, true, "client id is not allowed"},
		{"sdk_sign_in", sdkSignIn, allow, false, `"aud" is missing`},
		{"sdk_sign_in_insecure_on", sdkSignIn, allow, true, ""},
		{"id_token", map[string]any{
			"sub": "s", "aud": registered, "email_verified": true, "token_use": "id", "auth_time": 1700000000,
			"iss": pool, "cognito:username": "alice", "exp": 4102444800, "iat": 1700000000, "origin_jti": "o"},
			allow, true, `"token_use" does not mark an access token`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := authn.NewVerifier(keys, authn.Policy{Issuer: pool, Audiences: []string{resource}, ClientIDs: tt.ids,
				Profile: profile(t, "cognito"), InsecureAllowMissingAudience: tt.insecure})
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), iss.Mint(tt.claims))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if p.ClientID != tt.claims["client_id"] || p.Username != "alice" {
					t.Fatalf("principal %+v", p)
				}
				return
			}
			if !errors.Is(err, authn.ErrInvalidToken) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("got %v, want a refusal containing %q", err, tt.reason)
			}
		})
	}
}
