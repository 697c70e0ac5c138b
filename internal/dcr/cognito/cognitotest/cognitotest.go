// Package cognitotest sets up Cognito state in an emulator (moto) for tests:
// a user pool with the resource server the gateway's tests expect, and an
// access token for a registered app client. It is test-only: it enables
// password sign-in on a client, which the cognito adapter never does.
package cognitotest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/mcp-gateway/mcp-gateway/internal/awsconf"
)

// Names NewPool and UserToken use.
const (
	// Region is the emulator region (moto's default).
	Region = "us-east-1"
	// ResourceServer is the resource server identifier NewPool creates.
	ResourceServer = "mcp"
	// Scope is its one custom scope, as tokens carry it.
	Scope = ResourceServer + "/tools"
	// Username and Password are the user UserToken signs in as.
	Username = "alice"
	Password = "Correct-Horse-9-battery"
)

// timeout bounds every helper's AWS calls.
const timeout = 30 * time.Second

// NewAPI returns a Cognito client for the emulator at endpoint (for example
// testenv.StartMoto's), with static dummy credentials and Region.
func NewAPI(t testing.TB, endpoint string) *cip.Client {
	t.Helper()
	cfg, err := awsconf.Load(context.Background(), Region, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return cip.NewFromConfig(cfg)
}

// NewPool creates a user pool with resource server ResourceServer and scope
// "tools" (so Scope is a valid custom scope), and returns the pool id.
func NewPool(t testing.TB, api *cip.Client) (poolID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pool, err := api.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("mcp-test")})
	if err != nil {
		t.Fatalf("cognitotest: CreateUserPool: %v", err)
	}
	poolID = aws.ToString(pool.UserPool.Id)
	_, err = api.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
		UserPoolId: aws.String(poolID),
		Identifier: aws.String(ResourceServer),
		Name:       aws.String("MCP"),
		Scopes: []types.ResourceServerScopeType{{
			ScopeName:        aws.String("tools"),
			ScopeDescription: aws.String("call MCP tools"),
		}},
	})
	if err != nil {
		t.Fatalf("cognitotest: CreateResourceServer: %v", err)
	}
	return poolID
}

// UserToken returns an access token Cognito issues to Username through
// clientID. Test-only setup: it adds ALLOW_USER_PASSWORD_AUTH to the client
// (UpdateUserPoolClient carrying over its callbacks, flows, scopes, identity
// providers and token settings, since Cognito resets omitted fields), creates
// the user with a permanent Password if needed, and calls InitiateAuth
// (USER_PASSWORD_AUTH, with SECRET_HASH for a confidential client).
func UserToken(t testing.TB, api *cip.Client, poolID, clientID string) (accessToken string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
	if err != nil {
		t.Fatalf("cognitotest: DescribeUserPoolClient: %v", err)
	}
	c := d.UserPoolClient
	flows := slices.Clone(c.ExplicitAuthFlows)
	if !slices.Contains(flows, types.ExplicitAuthFlowsTypeAllowUserPasswordAuth) {
		flows = append(flows, types.ExplicitAuthFlowsTypeAllowUserPasswordAuth)
	}
	_, err = api.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
		UserPoolId:                      aws.String(poolID),
		ClientId:                        aws.String(clientID),
		ClientName:                      c.ClientName,
		CallbackURLs:                    c.CallbackURLs,
		AllowedOAuthFlows:               c.AllowedOAuthFlows,
		AllowedOAuthFlowsUserPoolClient: aws.ToBool(c.AllowedOAuthFlowsUserPoolClient),
		AllowedOAuthScopes:              c.AllowedOAuthScopes,
		SupportedIdentityProviders:      c.SupportedIdentityProviders,
		EnableTokenRevocation:           c.EnableTokenRevocation,
		PreventUserExistenceErrors:      c.PreventUserExistenceErrors,
		AccessTokenValidity:             c.AccessTokenValidity,
		IdTokenValidity:                 c.IdTokenValidity,
		RefreshTokenValidity:            c.RefreshTokenValidity,
		TokenValidityUnits:              c.TokenValidityUnits,
		ExplicitAuthFlows:               flows,
	})
	if err != nil {
		t.Fatalf("cognitotest: enable USER_PASSWORD_AUTH: %v", err)
	}
	_, err = api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:    aws.String(poolID),
		Username:      aws.String(Username),
		MessageAction: types.MessageActionTypeSuppress,
	})
	var exists *types.UsernameExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("cognitotest: AdminCreateUser: %v", err)
	}
	if _, err := api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(poolID),
		Username:   aws.String(Username),
		Password:   aws.String(Password),
		Permanent:  true,
	}); err != nil {
		t.Fatalf("cognitotest: AdminSetUserPassword: %v", err)
	}
	params := map[string]string{"USERNAME": Username, "PASSWORD": Password}
	if secret := aws.ToString(c.ClientSecret); secret != "" {
		params["SECRET_HASH"] = SecretHash(secret, Username, clientID)
	}
	out, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId:       aws.String(clientID),
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: params,
	})
	if err != nil {
		t.Fatalf("cognitotest: InitiateAuth: %v", err)
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		t.Fatalf("cognitotest: InitiateAuth returned no access token (challenge %q)", out.ChallengeName)
	}
	return aws.ToString(out.AuthenticationResult.AccessToken)
}

// SecretHash is Cognito's SECRET_HASH: base64(HMAC-SHA256(clientSecret,
// username + clientID)).
func SecretHash(clientSecret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
