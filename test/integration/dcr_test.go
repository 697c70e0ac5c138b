//go:build unix

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestCognitoRegistrationEndToEnd wires the whole Cognito story with moto
// standing in for AWS: `mcp-dcr serve` (registrations in DynamoDB, app
// clients in the Cognito emulator) and `mcp-gateway serve` (provider
// cognito, JWKS from moto, client ids from the registrations table). The MCP
// TypeScript SDK discovers and registers through the gateway's PRM; a token
// moto issues for the registered client is accepted; after an RFC 7592
// DELETE it is refused; a token of an app client never registered through
// mcp-dcr is refused from the start.
func TestCognitoRegistrationEndToEnd(t *testing.T) {
	testenv.NodeModules(t)
	endpoint := testenv.StartMoto(t)
	api := cognitotest.NewAPI(t, endpoint)
	pool := cognitotest.NewPool(t, api)
	issuer := "https://cognito-idp." + testenv.MotoRegion + ".amazonaws.com/" + pool
	table := "mcp-dcr-e2e"

	dcrBin := testenv.BuildDCR(t)
	dcrPort := testenv.FreePort(t)
	dcrURL := fmt.Sprintf("http://127.0.0.1:%d", dcrPort)
	dcrEnv := []string{
		fmt.Sprintf("MCPDCR_LISTEN=127.0.0.1:%d", dcrPort),
		"MCPDCR_PUBLIC_URL=" + dcrURL,
		"MCPDCR_REGION=" + testenv.MotoRegion,
		"MCPDCR_USER_POOL_ID=" + pool,
		"MCPDCR_TABLE=" + table,
		"MCPDCR_AWS_ENDPOINT=" + endpoint,
		"MCPDCR_COGNITO_DOMAIN=http://127.0.0.1:1", // managed login is not emulated by moto
		"MCPDCR_MANAGED_LOGIN_BRANDING=false",      // CreateManagedLoginBranding is not emulated by moto
	}
	create := exec.Command(dcrBin, "table", "create")
	create.Env = testenv.CleanEnv(dcrEnv...)
	create.Dir = t.TempDir() // no stray .env
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("mcp-dcr table create: %v\n%s", err, out)
	}
	testenv.Start(t, testenv.ProcessSpec{
		Name: "mcp-dcr", Path: dcrBin, Args: []string{"serve"}, Env: dcrEnv,
		ReadyURL: dcrURL + "/.well-known/oauth-authorization-server",
	})

	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{
		Issuer:         issuer,
		Provider:       "cognito",
		JWKSURI:        endpoint + "/" + pool + "/.well-known/jwks.json",
		RequiredScopes: []string{"aws.cognito.signin.user.admin"}, // the only scope moto puts in tokens
		Env: []string{
			"MCPGW_AUTHORIZATION_SERVERS=" + dcrURL,
			"MCPGW_CLIENT_IDS_TABLE=" + table,
			"MCPGW_AWS_REGION=" + testenv.MotoRegion,
			"MCPGW_AWS_ENDPOINT=" + endpoint,
			"MCPGW_CLIENT_IDS_CACHE_TTL=1s",
			// moto's InitiateAuth tokens carry no aud (neither do AWS's: SDK
			// sign-in has no resource binding), so they pass only from
			// registered clients with the switch on.
			"MCPGW_INSECURE_ALLOW_MISSING_AUDIENCE=true",
		},
	})

	// The TypeScript SDK: PRM -> mcp-dcr metadata -> DCR -> authorization URL.
	out, err := testenv.RunNode(t, "discover-register.mjs", "--url", gw.MCPURL)
	if err != nil {
		t.Fatalf("SDK discovery and registration: %v\n%s", err, out)
	}
	var sdk struct {
		AuthorizationServer string         `json:"authorization_server"`
		Metadata            map[string]any `json:"metadata"`
		Client              struct {
			ClientID string `json:"client_id"`
		} `json:"client"`
		AuthorizationURL string `json:"authorization_url"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &sdk); err != nil {
		t.Fatalf("SDK output %q: %v", out, err)
	}
	if strings.TrimSuffix(sdk.AuthorizationServer, "/") != dcrURL || sdk.Metadata["issuer"] != dcrURL {
		t.Fatalf("SDK found authorization server %q issuer %v, want %s", sdk.AuthorizationServer, sdk.Metadata["issuer"], dcrURL)
	}
	if sdk.Metadata["registration_endpoint"] != dcrURL+"/register" ||
		!slices.Contains(anyStrings(sdk.Metadata["code_challenge_methods_supported"]), "S256") {
		t.Fatalf("metadata lacks what MCP clients need: %v", sdk.Metadata)
	}
	au, err := url.Parse(sdk.AuthorizationURL)
	if err != nil || au.Query().Get("client_id") != sdk.Client.ClientID || au.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("authorization URL %q", sdk.AuthorizationURL)
	}
	if _, err := api.DescribeUserPoolClient(context.Background(), &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(pool), ClientId: aws.String(sdk.Client.ClientID),
	}); err != nil {
		t.Fatalf("the SDK's registration did not create a Cognito app client: %v", err)
	}

	// A client registered with a management token, then its token at the gateway.
	reg := registerClient(t, dcrURL)
	token := cognitotest.UserToken(t, api, pool, reg.ClientID)
	if resp, body := postMCP(t, gw.MCPURL, token); resp.StatusCode != http.StatusOK {
		t.Fatalf("registered client's token: %s\n%s", resp.Status, body)
	}

	// An app client made behind mcp-dcr's back is not accepted.
	rogue, err := api.CreateUserPoolClient(context.Background(), &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(pool), ClientName: aws.String("rogue"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rogueToken := cognitotest.UserToken(t, api, pool, *rogue.UserPoolClient.ClientId)
	if resp, body := postMCP(t, gw.MCPURL, rogueToken); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("unregistered client's token: %s %q\n%s", resp.Status, resp.Header.Get("WWW-Authenticate"), body)
	}

	// RFC 7592 DELETE: the Cognito client and the record go; within the
	// allowlist's cache period the gateway refuses the token.
	req, _ := http.NewRequest(http.MethodDelete, reg.RegistrationClientURI, nil)
	req.Header.Set("Authorization", "Bearer "+reg.RegistrationAccessToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE registration: %s", resp.Status)
	}
	// The gateway caches client-id answers for 1s (MCPGW_CLIENT_IDS_CACHE_TTL):
	// wait for the refusal rather than for a guessed time.
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
		resp, _ := postMCP(t, gw.MCPURL, token)
		return resp.StatusCode == http.StatusUnauthorized
	}, "the gateway to refuse the deleted client's token")
}

// registration is the part of an RFC 7591 response the test uses.
type registration struct {
	ClientID                string `json:"client_id"`
	RegistrationAccessToken string `json:"registration_access_token"`
	RegistrationClientURI   string `json:"registration_client_uri"`
}

func registerClient(t *testing.T, dcrURL string) registration {
	t.Helper()
	body := fmt.Sprintf(`{"client_name":"e2e","redirect_uris":["http://127.0.0.1:%d/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`,
		testenv.FreePort(t))
	resp, err := httpClient.Post(dcrURL+"/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg registration
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %s %v", resp.Status, err)
	}
	if reg.RegistrationAccessToken == "" || !strings.HasPrefix(reg.RegistrationClientURI, dcrURL+"/register/") {
		t.Fatalf("registration lacks RFC 7592 management: %+v", reg)
	}
	return reg
}

func anyStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
