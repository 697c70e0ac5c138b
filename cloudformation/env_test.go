package cloudformation_test

import (
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// requiredDCREnv are the variables the brief requires on the Lambda.
var requiredDCREnv = []string{
	"MCPDCR_PUBLIC_URL", "MCPDCR_REGION", "MCPDCR_USER_POOL_ID", "MCPDCR_TABLE",
	"MCPDCR_COGNITO_DOMAIN", "MCPDCR_SUPPORTED_IDENTITY_PROVIDERS",
	"MCPDCR_MANAGED_LOGIN_BRANDING", "MCPDCR_MAX_REGISTRATIONS",
	"MCPDCR_REGISTRATION_TTL", "MCPDCR_RATE_LIMIT", "MCPDCR_INITIAL_ACCESS_TOKEN",
	"MCPDCR_LOG_FORMAT",
}

// requiredGatewayEnv are the variables the App Runner service must set.
var requiredGatewayEnv = []string{
	"MCPGW_LISTEN", "MCPGW_PUBLIC_URL", "MCPGW_ISSUER", "MCPGW_PROVIDER",
	"MCPGW_AUTHORIZATION_SERVERS", "MCPGW_REQUIRED_SCOPES",
	"MCPGW_CLIENT_IDS_TABLE", "MCPGW_AWS_REGION",
}

// requiredParams are the parameters without a default, given in every scenario.
var requiredParams = map[string]string{
	"CognitoDomainPrefix": "mcp-example",
	"CodeBucket":          "example-artifacts",
}

// scenario is one way to deploy the stack, and what the resolved template
// must then configure.
type scenario struct {
	name          string
	params        map[string]string
	gateway       bool   // the App Runner service exists
	publicURL     string // MCPDCR_PUBLIC_URL = PRM authorization_servers
	cognitoDomain string
	iat           string
}

var scenarios = []scenario{
	{
		name:          "defaults, no gateway",
		params:        map[string]string{},
		publicURL:     sampleEndpoint,
		cognitoDomain: "https://mcp-example.auth.us-east-1.amazoncognito.com",
	},
	{
		name: "one origin, custom login domain, private ECR gateway",
		params: map[string]string{
			"GatewayImageIdentifier":     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/mcp-gateway@sha256:" + strings.Repeat("ab", 32),
			"GatewayPublicURL":           "https://mcp.example.com",
			"RegistrationPublicURL":      "https://mcp.example.com",
			"CustomDomainName":           "auth.example.com",
			"CustomDomainCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
			"SupportedIdentityProviders": "COGNITO,CorpSAML",
			"InitialAccessToken":         "0123456789abcdef0123456789abcdef-._~+/=",
			"AppClientQuota":             "5000",
			"MaxRegistrations":           "4500",
		},
		gateway:       true,
		publicURL:     "https://mcp.example.com",
		cognitoDomain: "https://auth.example.com",
		iat:           "0123456789abcdef0123456789abcdef-._~+/=",
	},
	{
		name: "public ECR gateway, separate origins",
		params: map[string]string{
			"GatewayImageIdentifier":     "public.ecr.aws/example/mcp-gateway:v1.2.3",
			"GatewayImageRepositoryType": "ECR_PUBLIC",
			"GatewayPublicURL":           "https://gw.example.com",
		},
		gateway:       true,
		publicURL:     sampleEndpoint,
		cognitoDomain: "https://mcp-example.auth.us-east-1.amazoncognito.com",
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

// gatewayEnv returns the App Runner service's resolved environment.
func gatewayEnv(t *testing.T, s *stack) map[string]string {
	t.Helper()
	list := s.eval(at(s.tp.resource(t, "GatewayService"), "Properties", "SourceConfiguration",
		"ImageRepository", "ImageConfiguration", "RuntimeEnvironmentVariables"))
	env := map[string]string{}
	for _, e := range list.([]any) {
		name, value := scalar(at(e, "Name")), scalar(at(e, "Value"))
		if _, dup := env[name]; dup {
			t.Errorf("gateway environment sets %s twice", name)
		}
		env[name] = value
	}
	return env
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
			if dcr.PublicURL != sc.publicURL || dcr.CognitoDomain != sc.cognitoDomain || dcr.InitialAccessToken != sc.iat {
				t.Errorf("public_url=%q cognito_domain=%q initial_access_token=%q; want %q %q %q",
					dcr.PublicURL, dcr.CognitoDomain, dcr.InitialAccessToken, sc.publicURL, sc.cognitoDomain, sc.iat)
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

			svc := tp.resource(t, "GatewayService")
			if got := s.exists(svc); got != sc.gateway {
				t.Fatalf("GatewayService created = %v, want %v", got, sc.gateway)
			}
			if !sc.gateway {
				return
			}
			genv := gatewayEnv(t, s)
			checkNames(t, "gateway", genv, requiredGatewayEnv, config.EnvPrefix, config.Keys())
			gw, err := config.Load(config.LoadOptions{Environ: environ(genv), DotEnv: os.DevNull})
			if err != nil {
				t.Fatalf("mcp-gateway refuses the App Runner environment:\n%v\nenvironment: %v", err, environ(genv))
			}
			// PRM must advertise exactly mcp-dcr's issuer identifier, or
			// clients' RFC 8414 issuer check fails.
			if !slices.Equal(gw.AuthorizationServers, []string{dcr.PublicURL}) {
				t.Errorf("gateway authorization_servers = %v, want [%s]", gw.AuthorizationServers, dcr.PublicURL)
			}
			wantIssuer := "https://cognito-idp.us-east-1.amazonaws.com/" + samplePoolID
			if gw.Issuer != wantIssuer || gw.Provider != "cognito" || gw.Listen != "0.0.0.0:8080" {
				t.Errorf("issuer=%q provider=%q listen=%q", gw.Issuer, gw.Provider, gw.Listen)
			}
			if gw.ClientIDsTable != dcr.Table || gw.AWSRegion != dcr.Region {
				t.Errorf("gateway reads client ids from %q in %q; mcp-dcr writes %q in %q", gw.ClientIDsTable, gw.AWSRegion, dcr.Table, dcr.Region)
			}
			if !slices.Equal(gw.RequiredScopes, []string{"mcp/tools"}) {
				t.Errorf("required_scopes = %v, want [mcp/tools]", gw.RequiredScopes)
			}
			port := s.str(at(svc, "Properties", "SourceConfiguration", "ImageRepository", "ImageConfiguration", "Port"))
			if !strings.HasSuffix(gw.Listen, ":"+port) {
				t.Errorf("gateway listens on %s but App Runner routes to port %s", gw.Listen, port)
			}
			if hc := s.str(at(svc, "Properties", "HealthCheckConfiguration", "Path")); hc != "/healthz" {
				t.Errorf("health check path %q, want /healthz", hc)
			}
		})
	}
}
