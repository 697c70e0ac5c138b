//go:build unix

package cognito_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// TestMoto drives the adapter through the real aws-sdk-go-v2 against
// moto_server: scopes from the resource server, public and confidential
// create, read-back of every baseline field, secret, full update, a token
// issued to the client, and delete (idempotent, and the client can no longer
// sign in). Branding is off: moto does not implement it.
func TestMoto(t *testing.T) {
	ctx := context.Background()
	api := cognitotest.NewAPI(t, testenv.StartMoto(t))
	pool := cognitotest.NewPool(t, api)
	c, err := cognito.New(api, cognito.Options{UserPoolID: pool})
	if err != nil {
		t.Fatal(err)
	}
	describe := func(t *testing.T, id string) *types.UserPoolClientType {
		t.Helper()
		out, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return out.UserPoolClient
	}

	scopes, err := c.ResourceServerScopes(ctx)
	if err != nil || strings.Join(scopes, ",") != cognitotest.Scope {
		t.Fatalf("ResourceServerScopes = %v, %v", scopes, err)
	}

	spec := dcr.AppClientSpec{
		Name:          "Claude Code",
		CallbackURLs:  []string{"http://localhost:53100/callback"},
		Scopes:        []string{cognitotest.Scope},
		Flows:         []string{"code"},
		RefreshTokens: true,
	}
	publicID, secret, err := c.Create(ctx, spec)
	if err != nil || publicID == "" || secret != "" {
		t.Fatalf("Create public = %q, %q, %v", publicID, secret, err)
	}
	got := describe(t, publicID)
	checks := []struct {
		name string
		ok   bool
	}{
		{"name", aws.ToString(got.ClientName) == "Claude Code"},
		{"oauth client", aws.ToBool(got.AllowedOAuthFlowsUserPoolClient)},
		{"flows", slices.Equal(got.AllowedOAuthFlows, []types.OAuthFlowType{types.OAuthFlowTypeCode})},
		{"scopes", slices.Equal(got.AllowedOAuthScopes, spec.Scopes)},
		{"callbacks", slices.Equal(got.CallbackURLs, spec.CallbackURLs)},
		{"idps", slices.Equal(got.SupportedIdentityProviders, []string{"COGNITO"})},
		{"auth flows", slices.Equal(got.ExplicitAuthFlows, []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth})},
		{"revocation", aws.ToBool(got.EnableTokenRevocation)},
		{"user existence", got.PreventUserExistenceErrors == types.PreventUserExistenceErrorTypesEnabled},
		{"access validity", aws.ToInt32(got.AccessTokenValidity) == 60},
		{"refresh validity", got.RefreshTokenValidity == 43200},
		{"units", got.TokenValidityUnits != nil && got.TokenValidityUnits.RefreshToken == types.TimeUnitsTypeMinutes},
		{"no secret", got.ClientSecret == nil},
	}
	for _, ck := range checks {
		if !ck.ok {
			t.Errorf("public client %s wrong: %+v", ck.name, got)
		}
	}
	if s, err := c.Secret(ctx, publicID); err != nil || s != "" {
		t.Errorf("Secret(public) = %q, %v", s, err)
	}

	conf := spec
	conf.Name, conf.GenerateSecret = "server app", true
	confID, confSecret, err := c.Create(ctx, conf)
	if err != nil || confSecret == "" {
		t.Fatalf("Create confidential = %q, %q, %v", confID, confSecret, err)
	}
	if s, err := c.Secret(ctx, confID); err != nil || s != confSecret {
		t.Errorf("Secret(confidential) = %q, %v; want the secret Create returned", s, err)
	}

	upd := spec
	upd.Name = "Claude Code 2"
	upd.CallbackURLs = []string{"http://127.0.0.1:33418", "https://vscode.dev/redirect"}
	if err := c.Update(ctx, publicID, upd); err != nil {
		t.Fatal(err)
	}
	got = describe(t, publicID)
	if aws.ToString(got.ClientName) != upd.Name || !slices.Equal(got.CallbackURLs, upd.CallbackURLs) ||
		aws.ToInt32(got.AccessTokenValidity) != 60 || !aws.ToBool(got.EnableTokenRevocation) ||
		!slices.Equal(got.SupportedIdentityProviders, []string{"COGNITO"}) {
		t.Errorf("after Update: %+v", got)
	}

	token := cognitotest.UserToken(t, api, pool, publicID)
	claims := payload(t, token)
	if claims["client_id"] != publicID || claims["token_use"] != "access" ||
		claims["iss"] != "https://cognito-idp.us-east-1.amazonaws.com/"+pool {
		t.Errorf("token claims = %v", claims)
	}
	if tok := cognitotest.UserToken(t, api, pool, confID); payload(t, tok)["client_id"] != confID {
		t.Errorf("confidential client's token has the wrong client_id")
	}

	for range 2 { // the second delete finds nothing and still succeeds
		if err := c.Delete(ctx, publicID); err != nil {
			t.Fatal(err)
		}
	}
	_, err = api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(publicID)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("deleted client still described: %v", err)
	}
	if _, err := c.Secret(ctx, publicID); !errors.As(err, &nf) {
		t.Errorf("Secret(deleted) = %v, want ResourceNotFoundException", err)
	}
	_, err = api.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(publicID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": cognitotest.Username, "PASSWORD": cognitotest.Password},
	})
	if err == nil {
		t.Error("deleted client can still sign in")
	}
}

// payload decodes a JWT's claims without verifying it (the gateway's tests
// verify; here only the issuing client matters).
func payload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
