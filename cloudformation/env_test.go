package cloudformation_test

import (
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// requiredDCREnv are the variables the Lambda must get.
var requiredDCREnv = []string{
	"MCPDCR_PUBLIC_URL", "MCPDCR_REGION", "MCPDCR_USER_POOL_ID", "MCPDCR_TABLE",
	"MCPDCR_COGNITO_DOMAIN", "MCPDCR_SUPPORTED_IDENTITY_PROVIDERS",
	"MCPDCR_MANAGED_LOGIN_BRANDING", "MCPDCR_MAX_REGISTRATIONS",
	"MCPDCR_REGISTRATION_TTL", "MCPDCR_RATE_LIMIT", "MCPDCR_INITIAL_ACCESS_TOKEN",
	"MCPDCR_LOG_FORMAT", "MCPDCR_ACCESS_TOKEN_VALIDITY", "MCPDCR_REFRESH_TOKEN_VALIDITY",
	"MCPDCR_REFRESH_TOKEN_ROTATION", "MCPDCR_DEFAULT_SCOPES",
}

// requiredGatewayEnv are the variables the gateway's container must get.
var requiredGatewayEnv = []string{
	"MCPGW_LISTEN", "MCPGW_PUBLIC_URL", "MCPGW_ISSUER", "MCPGW_PROVIDER",
	"MCPGW_AUTHORIZATION_SERVERS", "MCPGW_REQUIRED_SCOPES",
	"MCPGW_CLIENT_IDS_TABLE", "MCPGW_AWS_REGION", "MCPGW_STREAM_KEEPALIVE",
}

// requiredParams are the parameters without a default, given in every scenario.
var requiredParams = map[string]string{
	"PublicURL":             samplePublic,
	"CertificateArn":        "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
	"VpcId":                 "vpc-0123456789abcdef0",
	"LoadBalancerSubnetIds": "subnet-0a,subnet-0b",
	"TaskSubnetIds":         "subnet-1a,subnet-1b",
	"GatewayImage":          "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/mcp-gateway@sha256:" + strings.Repeat("ab", 32),
	"CognitoDomainPrefix":   "mcp-example",
	"CodeBucket":            "example-artifacts",
	"CodeKey":               "mcp-dcr/mcp-dcr-lambda-0123abcd.zip",
}

// sampleRoutesYAML is a routes value a user would deploy.
const sampleRoutesYAML = `- path: /mcp
  upstream: builtin
- path: /tickets
  upstream: https://tickets.internal.example.com/mcp
  tool_scopes:
    close_ticket: [https://mcp.example.com/mcp/admin]
`

// scenario is one way to deploy the stack, and what the resolved template
// must then configure.
type scenario struct {
	name          string
	params        map[string]string
	cognitoDomain string
	iat           string
	idps          string // MCPDCR_SUPPORTED_IDENTITY_PROVIDERS
	routes        bool   // MCPGW_ROUTES comes from an SSM parameter
	staticClient  bool
}

var scenarios = []scenario{
	{
		name:          "defaults",
		params:        map[string]string{},
		cognitoDomain: "https://mcp-example.auth.us-east-1.amazoncognito.com",
		idps:          "COGNITO",
	},
	{
		name: "SAML corporate IdP, custom login domain, static client, routes",
		params: map[string]string{
			"CorporateIdPType":           "SAML",
			"CorporateIdPName":           "CorpSAML",
			"SAMLMetadataURL":            "https://idp.example.com/saml/metadata",
			"CustomDomainName":           "auth.example.com",
			"CustomDomainCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
			"StaticClientCallbackURLs":   "https://claude.ai/api/mcp/auth_callback,http://localhost/callback",
			"GatewayRoutes":              sampleRoutesYAML,
			"InitialAccessToken":         "0123456789abcdef0123456789abcdef-._~+/=",
			"AppClientQuota":             "5000",
			"MaxRegistrations":           "4500",
		},
		cognitoDomain: "https://auth.example.com",
		iat:           "0123456789abcdef0123456789abcdef-._~+/=",
		idps:          "COGNITO,CorpSAML",
		routes:        true,
		staticClient:  true,
	},
	{
		name: "OIDC corporate logins only, routes parameter, SES, aud-less tokens",
		params: map[string]string{
			"CorporateIdPType":             "OIDC",
			"CorporateIdPName":             "Okta",
			"OfferCognitoLogin":            "false",
			"OIDCIssuer":                   "https://example.okta.com",
			"OIDCClientId":                 "0oa1example",
			"OIDCClientSecretArn":          "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-AbCdEf",
			"GatewayRoutesParameterName":   "/platform/mcp/routes",
			"SESIdentityArn":               "arn:aws:ses:us-east-1:123456789012:identity/example.com",
			"SESFromAddress":               "MCP <no-reply@example.com>",
			"InsecureAllowMissingAudience": "true",
			"RefreshTokenRotation":         "DISABLED",
		},
		cognitoDomain: "https://mcp-example.auth.us-east-1.amazoncognito.com",
		idps:          "Okta",
		routes:        true,
	},
}

// param returns a parameter the scenario sets, or def.
func (sc scenario) param(name, def string) string {
	if v, ok := sc.params[name]; ok {
		return v
	}
	return def
}

func (sc scenario) stack(t *testing.T, tp template) *stack {
	params := map[string]string{}
	for k, v := range requiredParams {
		params[k] = v
	}
	for k, v := range sc.params {
		params[k] = v
	}
	return newStack(t, tp, params)
}

// lambdaEnv returns the Lambda's resolved environment.
func lambdaEnv(t *testing.T, s *stack) map[string]string {
	t.Helper()
	vars, ok := s.eval(at(s.tp.resource(t, "RegistrationFunction"), "Properties", "Environment", "Variables")).(map[string]any)
	if !ok {
		t.Fatal("RegistrationFunction has no Environment.Variables")
	}
	env := map[string]string{}
	for k, v := range vars {
		env[k] = scalar(v)
	}
	return env
}

// gatewayContainer returns the gateway's resolved container definition.
func gatewayContainer(t *testing.T, s *stack) map[string]any {
	t.Helper()
	defs := list(s.eval(at(s.tp.resource(t, "GatewayTaskDefinition"), "Properties", "ContainerDefinitions")))
	if len(defs) != 1 {
		t.Fatalf("%d container definitions, want 1", len(defs))
	}
	return defs[0].(map[string]any)
}

// gatewayEnv returns the gateway container's plain environment.
func gatewayEnv(t *testing.T, s *stack) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range list(gatewayContainer(t, s)["Environment"]) {
		name, value := scalar(at(e, "Name")), scalar(at(e, "Value"))
		if _, dup := env[name]; dup {
			t.Errorf("gateway environment sets %s twice", name)
		}
		env[name] = value
	}
	return env
}

// gatewaySecrets returns the gateway container's secrets: name -> ValueFrom.
func gatewaySecrets(t *testing.T, s *stack) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range list(gatewayContainer(t, s)["Secrets"]) {
		out[scalar(at(e, "Name"))] = scalar(at(e, "ValueFrom"))
	}
	return out
}

// environ renders env as KEY=VALUE lines.
func environ(env map[string]string) []string {
	var l []string
	for k, v := range env {
		l = append(l, k+"="+v)
	}
	sort.Strings(l)
	return l
}

// checkNames fails for a required name that is missing and for a name that
// is not prefix_<key> of any key (the loaders ignore unknown variables, so a
// misspelt one would be dropped silently).
func checkNames(t *testing.T, what string, env map[string]string, required []string, prefix string, keys []string) {
	t.Helper()
	for _, name := range required {
		if _, ok := env[name]; !ok {
			t.Errorf("%s: %s is not set", what, name)
		}
	}
	for name := range env {
		key := strings.ToLower(strings.TrimPrefix(name, prefix+"_"))
		if !strings.HasPrefix(name, prefix+"_") || !slices.Contains(keys, key) {
			t.Errorf("%s: %s is not a configuration key of internal/config (keys: %v)", what, name, keys)
		}
	}
}

// TestEnvironmentLoads resolves the template for each scenario and loads the
// Lambda's and the gateway's environment through the real configuration
// loaders: every variable is a known key, and both configurations validate.
// The gateway's secrets (session_secret from Secrets Manager, routes from
// SSM) are given sample values of the kind ECS injects.
func TestEnvironmentLoads(t *testing.T) {
	tp := loadTemplate(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s := sc.stack(t, tp)
			env := lambdaEnv(t, s)
			checkNames(t, "Lambda", env, requiredDCREnv, config.DCREnvPrefix, config.DCRKeys())
			dcr, err := config.LoadDCR(config.LoadOptions{Environ: environ(env), DotEnv: os.DevNull})
			if err != nil {
				t.Fatalf("mcp-dcr refuses the Lambda's environment:\n%v\nenvironment: %v", err, environ(env))
			}
			if dcr.PublicURL != samplePublic || dcr.CognitoDomain != sc.cognitoDomain || dcr.InitialAccessToken != sc.iat {
				t.Errorf("public_url=%q cognito_domain=%q initial_access_token=%q; want %q %q %q",
					dcr.PublicURL, dcr.CognitoDomain, dcr.InitialAccessToken, samplePublic, sc.cognitoDomain, sc.iat)
			}
			if got := strings.Join(dcr.SupportedIdentityProviders, ","); got != sc.idps {
				t.Errorf("supported_identity_providers = %q, want %q", got, sc.idps)
			}
			if want := sc.param("MaxRegistrations", "900"); strconv.Itoa(dcr.MaxRegistrations) != want {
				t.Errorf("max_registrations = %d, want %s", dcr.MaxRegistrations, want)
			}
			if dcr.UserPoolID != samplePoolID || dcr.Table != sampleTable || dcr.Region != sampleRegion || dcr.LogFormat != "json" {
				t.Errorf("user_pool_id=%q table=%q region=%q log_format=%q", dcr.UserPoolID, dcr.Table, dcr.Region, dcr.LogFormat)
			}
			wantJWKS := "https://cognito-idp.us-east-1.amazonaws.com/" + samplePoolID + "/.well-known/jwks.json"
			if dcr.JWKSURI != wantJWKS {
				t.Errorf("jwks_uri = %q, want %q", dcr.JWKSURI, wantJWKS)
			}
			// A missing scope (registration or /authorize) means the resource
			// server's scopes, which the static client must allow too.
			wantDefaults := []string{samplePublic + "/mcp/tools", samplePublic + "/mcp/admin"}
			if !slices.Equal(dcr.DefaultScopes, wantDefaults) {
				t.Errorf("default_scopes = %v, want the resource server's %v", dcr.DefaultScopes, wantDefaults)
			}
			var rsScopes []string
			for _, sc := range list(at(tp.resource(t, "ResourceServer"), "Properties", "Scopes")) {
				rsScopes = append(rsScopes, samplePublic+"/mcp/"+scalar(at(sc, "ScopeName")))
			}
			staticScopes := list(s.eval(at(tp.resource(t, "StaticClient"), "Properties", "AllowedOAuthScopes")))
			for _, d := range dcr.DefaultScopes {
				if !slices.Contains(rsScopes, d) || !slices.ContainsFunc(staticScopes, func(v any) bool { return scalar(v) == d }) {
					t.Errorf("default scope %s is not a resource-server scope %v allowed to the static client %v", d, rsScopes, staticScopes)
				}
			}
			if dcr.AccessTokenValidity != time.Hour || dcr.RefreshTokenValidity != 720*time.Hour {
				t.Errorf("token validity access=%v refresh=%v, want 1h and 720h", dcr.AccessTokenValidity, dcr.RefreshTokenValidity)
			}

			genv := gatewayEnv(t, s)
			checkNames(t, "gateway", genv, requiredGatewayEnv, config.EnvPrefix, config.Keys())
			secrets := gatewaySecrets(t, s)
			if secrets["MCPGW_SESSION_SECRET"] != sampleSecret {
				t.Errorf("MCPGW_SESSION_SECRET comes from %q, want the stack's secret %q", secrets["MCPGW_SESSION_SECRET"], sampleSecret)
			}
			_, hasRoutes := secrets["MCPGW_ROUTES"]
			if hasRoutes != sc.routes || len(secrets) != map[bool]int{true: 2, false: 1}[sc.routes] {
				t.Errorf("gateway secrets = %v; want MCPGW_SESSION_SECRET and, with routes, MCPGW_ROUTES", secrets)
			}
			withSecrets := maps.Clone(genv)
			withSecrets["MCPGW_SESSION_SECRET"] = strings.Repeat("k", 64) // GenerateSecretString: 64 characters
			if hasRoutes {
				withSecrets["MCPGW_ROUTES"] = sampleRoutesYAML
			}
			gw, err := config.Load(config.LoadOptions{Environ: environ(withSecrets), DotEnv: os.DevNull})
			if err != nil {
				t.Fatalf("mcp-gateway refuses the task's environment:\n%v\nenvironment: %v", err, environ(genv))
			}
			// PRM must advertise exactly mcp-dcr's issuer identifier, or
			// clients' RFC 8414 issuer check fails.
			if !slices.Equal(gw.AuthorizationServers, []string{dcr.PublicURL}) || gw.PublicURL != dcr.PublicURL {
				t.Errorf("gateway public_url=%s authorization_servers=%v, want both %s", gw.PublicURL, gw.AuthorizationServers, dcr.PublicURL)
			}
			wantIssuer := "https://cognito-idp.us-east-1.amazonaws.com/" + samplePoolID
			if gw.Issuer != wantIssuer || gw.Provider != "cognito" || gw.Listen != "0.0.0.0:8080" {
				t.Errorf("issuer=%q provider=%q listen=%q", gw.Issuer, gw.Provider, gw.Listen)
			}
			if gw.ClientIDsTable != dcr.Table || gw.AWSRegion != dcr.Region {
				t.Errorf("gateway reads client ids from %q in %q; mcp-dcr writes %q in %q", gw.ClientIDsTable, gw.AWSRegion, dcr.Table, dcr.Region)
			}
			// The resource server's identifier is the MCP resource URL, so
			// Cognito's scopes are <resource>/<name>.
			if !slices.Equal(gw.RequiredScopes, []string{samplePublic + "/mcp/tools"}) {
				t.Errorf("required_scopes = %v, want [%s/mcp/tools]", gw.RequiredScopes, samplePublic)
			}
			if id := s.str(at(tp.resource(t, "ResourceServer"), "Properties", "Identifier")); id != samplePublic+"/mcp" {
				t.Errorf("resource server identifier %q, want the MCP resource URL %s/mcp", id, samplePublic)
			}
			if gw.SessionSecret == "" {
				t.Error("session_secret is empty")
			}
			wantClients := []string(nil)
			if sc.staticClient {
				wantClients = []string{sampleClientID}
			}
			if !slices.Equal(gw.AllowedClientIDs, wantClients) {
				t.Errorf("allowed_client_ids = %v, want %v", gw.AllowedClientIDs, wantClients)
			}
			if want := sc.param("InsecureAllowMissingAudience", "false") == "true"; gw.InsecureAllowMissingAudience != want {
				t.Errorf("insecure_allow_missing_audience = %v, want %v", gw.InsecureAllowMissingAudience, want)
			}
			if sc.routes && sc.param("GatewayRoutes", "") != "" && len(gw.Routes) != 2 {
				t.Errorf("routes = %v, want the two sample routes", gw.Routes)
			}
		})
	}
}
