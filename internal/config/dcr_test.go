package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func validDCR() DCR {
	c := DCR{
		PublicURL:     "https://mcp.example.com",
		Region:        "us-east-1",
		UserPoolID:    "us-east-1_AbC123",
		Table:         "registrations",
		CognitoDomain: "https://example.auth.us-east-1.amazoncognito.com",
	}
	c.ApplyDefaults()
	return c
}

func TestDCRDefaults(t *testing.T) {
	c := validDCR()
	if c.Listen != DefaultDCRListen || c.RateLimit != 10 || c.RateLimitBurst != 10 || c.MaxBodyBytes != 16<<10 {
		t.Fatalf("defaults: %+v", c)
	}
	if !c.Branding() || !c.CIMD() || c.ReusePublicRegistrations != nil {
		t.Fatalf("bool defaults: branding %v cimd %v reuse %v", c.Branding(), c.CIMD(), c.ReusePublicRegistrations)
	}
	if want := "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json"; c.JWKSURI != want {
		t.Fatalf("jwks_uri = %q", c.JWKSURI)
	}
	emu := DCR{UserPoolID: "us-east-1_X", Region: "us-east-1", AWSEndpoint: "http://127.0.0.1:5000/"}
	if emu.ApplyDefaults(); emu.JWKSURI != "http://127.0.0.1:5000/us-east-1_X/.well-known/jwks.json" {
		t.Fatalf("emulator jwks_uri = %q", emu.JWKSURI)
	}
	if !slices.Equal(c.SupportedIdentityProviders, []string{"COGNITO"}) {
		t.Fatalf("supported_identity_providers = %v", c.SupportedIdentityProviders)
	}
	if c.AccessTokenValidity != time.Hour || c.RefreshTokenValidity != 720*time.Hour {
		t.Fatalf("validity defaults: %s %s", c.AccessTokenValidity, c.RefreshTokenValidity)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestDCRValidateProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*DCR)
		want   string
	}{
		{"missing public_url", func(c *DCR) { c.PublicURL = "" }, "public_url: is required"},
		{"http public_url remote", func(c *DCR) { c.PublicURL = "http://dcr.example.com" }, "public_url:"},
		{"public_url query", func(c *DCR) { c.PublicURL = "https://dcr.example.com/?a=1" }, "public_url:"},
		{"public_url relative", func(c *DCR) { c.PublicURL = "/register" }, "public_url:"},
		{"missing region", func(c *DCR) { c.Region = "" }, "region: is required"},
		{"bad region", func(c *DCR) { c.Region = "US-EAST-1" }, "region:"},
		{"missing pool", func(c *DCR) { c.UserPoolID = "" }, "user_pool_id: is required"},
		{"bad pool", func(c *DCR) { c.UserPoolID = "pool" }, "user_pool_id:"},
		{"pool in other region", func(c *DCR) { c.UserPoolID = "eu-west-1_AbC123" }, "belongs to region eu-west-1"},
		{"missing table", func(c *DCR) { c.Table = "" }, "table: is required"},
		{"table charset", func(c *DCR) { c.Table = "regs/prod" }, "table:"},
		{"table short", func(c *DCR) { c.Table = "ab" }, "table:"},
		{"endpoint not url", func(c *DCR) { c.AWSEndpoint = "localhost:5000" }, "aws_endpoint:"},
		{"missing domain", func(c *DCR) { c.CognitoDomain = "" }, "cognito_domain: is required"},
		{"http domain remote", func(c *DCR) { c.CognitoDomain = "http://auth.example.com" }, "cognito_domain:"},
		{"domain with path", func(c *DCR) { c.CognitoDomain = "https://auth.example.com/login" }, "cognito_domain:"},
		{"jwks http remote", func(c *DCR) { c.JWKSURI = "http://keys.example.com/jwks" }, "jwks_uri:"},
		{"empty idp", func(c *DCR) { c.SupportedIdentityProviders = []string{"COGNITO", ""} }, "supported_identity_providers[1]"},
		{"access validity short", func(c *DCR) { c.AccessTokenValidity = time.Minute }, "access_token_validity:"},
		{"id validity long", func(c *DCR) { c.IDTokenValidity = 48 * time.Hour }, "id_token_validity:"},
		{"refresh validity huge", func(c *DCR) { c.RefreshTokenValidity = 4000 * 24 * time.Hour }, "refresh_token_validity:"},
		{"rotation grace over 60s", func(c *DCR) { c.RefreshTokenRotationGrace = 90 * time.Second }, "refresh_token_rotation_grace:"},
		{"rotation grace fractional", func(c *DCR) { c.RefreshTokenRotationGrace = 1500 * time.Millisecond }, "refresh_token_rotation_grace:"},
		{"refresh not above access", func(c *DCR) {
			c.AccessTokenValidity, c.RefreshTokenValidity = 24*time.Hour, 2*time.Hour
		}, "must exceed"},
		{"scope with space", func(c *DCR) { c.AllowedScopes = []string{"a b"} }, "allowed_scopes[0]:"},
		{"offline_access", func(c *DCR) { c.DefaultScopes = []string{"offline_access"} }, `default_scopes[0]: "offline_access": Cognito has no such scope`},
		{"default outside allowed", func(c *DCR) {
			c.AllowedScopes, c.DefaultScopes = []string{"openid"}, []string{"mcp/tools"}
		}, `default_scopes[0]: "mcp/tools": not among the allowed scopes`},
		{"blank pattern", func(c *DCR) { c.RedirectURIPatterns = []string{" "} }, "redirect_uri_patterns[0]"},
		{"https private scheme", func(c *DCR) { c.PrivateUseSchemes = []string{"https"} }, "private_use_schemes[0]"},
		{"javascript scheme", func(c *DCR) { c.PrivateUseSchemes = []string{"cursor", "JavaScript"} }, "private_use_schemes[1]"},
		{"scheme syntax", func(c *DCR) { c.PrivateUseSchemes = []string{"1app"} }, "private_use_schemes[0]"},
		{"negative max", func(c *DCR) { c.MaxRegistrations = -1 }, "max_registrations:"},
		{"max above default quota", func(c *DCR) { c.MaxRegistrations = 1000 }, "app_client_quota unset: Cognito's default quota"},
		{"max above quota", func(c *DCR) { c.MaxRegistrations, c.AppClientQuota = 600, 500 }, "max_registrations: 600 must be positive and below the app client quota 500"},
		{"negative ttl", func(c *DCR) { c.RegistrationTTL = -time.Hour }, "registration_ttl:"},
		{"prefix charset", func(c *DCR) { c.ClientNamePrefix = "mcp<" }, "client_name_prefix:"},
		{"loopback callbacks negative", func(c *DCR) { c.LoopbackCallbackLimit = -1 }, "loopback_callback_limit: -1 must be 1..99"},
		{"loopback callbacks above Cognito", func(c *DCR) { c.LoopbackCallbackLimit = 100 }, "loopback_callback_limit: 100 must be 1..99"},
		{"rate limit", func(c *DCR) { c.RateLimit = -1 }, "rate_limit:"},
		{"burst", func(c *DCR) { c.RateLimitBurst = 20000 }, "rate_limit_burst:"},
		{"short iat", func(c *DCR) { c.InitialAccessToken = "short" }, "initial_access_token: is 5 characters"},
		{"iat not b64token", func(c *DCR) { c.InitialAccessToken = strings.Repeat("a", 31) + " b" }, "b64token"},
		{"body cap small", func(c *DCR) { c.MaxBodyBytes = 100 }, "max_body_bytes:"},
		{"body cap large", func(c *DCR) { c.MaxBodyBytes = 10 << 20 }, "max_body_bytes:"},
		{"listen", func(c *DCR) { c.Listen = "8090" }, "listen:"},
		{"log level", func(c *DCR) { c.LogLevel = "trace" }, "log_level:"},
		{"log format", func(c *DCR) { c.LogFormat = "xml" }, "log_format:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validDCR()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDCRValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*DCR)
	}{
		{"defaults", func(*DCR) {}},
		{"loopback http public url", func(c *DCR) { c.PublicURL = "http://127.0.0.1:8090" }},
		{"public url with path", func(c *DCR) { c.PublicURL = "https://api.example.com/dcr" }},
		{"loopback domain and emulator", func(c *DCR) {
			c.CognitoDomain, c.AWSEndpoint = "http://localhost:5000", "http://127.0.0.1:5000"
		}},
		{"gov region", func(c *DCR) { c.Region, c.UserPoolID = "us-gov-west-1", "us-gov-west-1_X1" }},
		{"private schemes", func(c *DCR) { c.PrivateUseSchemes = []string{"cursor", "com.example.app"} }},
		{"iat", func(c *DCR) { c.InitialAccessToken = strings.Repeat("Ab0-", 8) }},
		{"scopes", func(c *DCR) {
			c.AllowedScopes, c.DefaultScopes = []string{"openid", "mcp/tools"}, []string{"mcp/tools"}
		}},
		{"raised quota", func(c *DCR) { c.MaxRegistrations, c.AppClientQuota = 4500, 5000 }},
		{"cognito name prefix", func(c *DCR) { c.ClientNamePrefix = "mcp dcr@corp-" }},
		{"loopback callbacks", func(c *DCR) { c.LoopbackCallbackLimit = 99 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validDCR()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}

func TestDCRValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := DCR{Listen: "x", RateLimit: -1}
	c.ApplyDefaults()
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, key := range []string{"listen:", "public_url:", "region:", "user_pool_id:", "table:", "cognito_domain:", "rate_limit:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not mention %s", err, key)
		}
	}
}

func TestLoadDCRFile(t *testing.T) {
	c, err := LoadDCR(LoadOptions{File: "testdata/dcr.yaml", Environ: []string{}, DotEnv: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9191" || c.PublicURL != "https://mcp.example.com" || c.Region != "eu-west-1" {
		t.Fatalf("unexpected %+v", c)
	}
	if c.Branding() || !c.CIMD() || c.ReusePublicRegistrations == nil || *c.ReusePublicRegistrations {
		t.Fatalf("bools: branding %v cimd %v reuse %v", c.Branding(), c.CIMD(), c.ReusePublicRegistrations)
	}
	if c.AccessTokenValidity != 30*time.Minute || c.RegistrationTTL != 720*time.Hour || c.MaxRegistrations != 500 {
		t.Fatalf("durations/ints: %+v", c)
	}
	if !slices.Equal(c.SupportedIdentityProviders, []string{"COGNITO", "CorpSAML"}) ||
		!slices.Equal(c.PrivateUseSchemes, []string{"cursor", "com.example.app"}) {
		t.Fatalf("lists: %v %v", c.SupportedIdentityProviders, c.PrivateUseSchemes)
	}
	if c.JWKSURI != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json" {
		t.Fatalf("jwks_uri = %q", c.JWKSURI)
	}
}

func TestLoadDCREnvOverridesFile(t *testing.T) {
	env := []string{
		"MCPDCR_LISTEN=127.0.0.1:7000",
		"MCPDCR_ALLOWED_SCOPES= openid , mcp/tools,",
		"MCPDCR_DEFAULT_SCOPES=openid",
		"MCPDCR_MANAGED_LOGIN_BRANDING=true",
		"MCPDCR_CIMD_ENABLED=false",
		"MCPDCR_REGISTRATION_TTL=24h",
		"MCPDCR_RATE_LIMIT=3",
		"MCPDCR_LOOPBACK_CALLBACK_LIMIT=50",
		"MCPGW_LISTEN=127.0.0.1:1", // the gateway's prefix is ignored
	}
	c, err := LoadDCR(LoadOptions{File: "testdata/dcr.yaml", Environ: env, DotEnv: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7000" || c.RegistrationTTL != 24*time.Hour || c.RateLimit != 3 || c.LoopbackCallbackLimit != 50 {
		t.Fatalf("env not applied: %+v", c)
	}
	if !c.Branding() || c.CIMD() {
		t.Fatalf("bools from env: branding %v cimd %v", c.Branding(), c.CIMD())
	}
	if !slices.Equal(c.AllowedScopes, []string{"openid", "mcp/tools"}) {
		t.Fatalf("allowed_scopes = %q", c.AllowedScopes)
	}
}

func TestLoadDCREmptyValuesMeanDefault(t *testing.T) {
	env := []string{"MCPDCR_REGISTRATION_TTL=", "MCPDCR_MAX_REGISTRATIONS=", "MCPDCR_REUSE_PUBLIC_REGISTRATIONS=",
		"MCPDCR_MANAGED_LOGIN_BRANDING=", "MCPDCR_RATE_LIMIT=", "MCPDCR_ALLOWED_SCOPES=", "MCPDCR_DEFAULT_SCOPES=",
		"MCPDCR_LOOPBACK_CALLBACK_LIMIT="}
	c, err := LoadDCR(LoadOptions{File: "testdata/dcr.yaml", Environ: env, DotEnv: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if c.RegistrationTTL != 0 || c.MaxRegistrations != 0 || c.ReusePublicRegistrations != nil ||
		!c.Branding() || c.RateLimit != DefaultDCRRateLimit || len(c.AllowedScopes) != 0 || c.LoopbackCallbackLimit != 0 {
		t.Fatalf("empty values did not reset to defaults: %+v", c)
	}
}

func TestLoadDCRDotEnvAndEnvironmentOnly(t *testing.T) {
	dot := filepath.Join(t.TempDir(), ".env")
	content := "MCPDCR_PUBLIC_URL=https://dcr.example.com\nMCPDCR_REGION=us-east-1\n" +
		"MCPDCR_USER_POOL_ID=us-east-1_Pool1\nMCPDCR_TABLE=regs\nMCPDCR_COGNITO_DOMAIN=https://auth.example.com\n" +
		"MCPDCR_LISTEN=127.0.0.1:1111\nMCPGW_ISSUER=https://ignored.example\n"
	if err := os.WriteFile(dot, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadDCR(LoadOptions{DotEnv: dot, Environ: []string{"MCPDCR_LISTEN=127.0.0.1:2222"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://dcr.example.com" || c.Listen != "127.0.0.1:2222" || c.Table != "regs" {
		t.Fatalf("precedence wrong: %+v", c)
	}
}

func TestLoadDCRRejectsUnknownKeysAndInvalid(t *testing.T) {
	_, err := LoadDCR(LoadOptions{File: "testdata/dcr_typo.yaml", Environ: []string{}, DotEnv: os.DevNull})
	if err == nil || !strings.Contains(err.Error(), "alowed_scopes") {
		t.Fatalf("want unknown key error, got %v", err)
	}
	_, err = LoadDCR(LoadOptions{File: "testdata/dcr.yaml", Environ: []string{"MCPDCR_REGION=nowhere"}, DotEnv: os.DevNull})
	if err == nil || !strings.Contains(err.Error(), "region:") || !strings.Contains(err.Error(), "user_pool_id:") {
		t.Fatalf("want region and user_pool_id errors, got %v", err)
	}
}

// TestEnvExampleListsEveryDCRKey keeps the MCPDCR_ block of .env.example
// complete and loadable.
func TestEnvExampleListsEveryDCRKey(t *testing.T) {
	const file = "../../.env.example"
	vars, err := godotenvRead(file)
	if err != nil {
		t.Fatal(err)
	}
	for name := range vars {
		if strings.HasPrefix(name, DCREnvPrefix+"_") &&
			!slices.Contains(DCRKeys(), strings.ToLower(strings.TrimPrefix(name, DCREnvPrefix+"_"))) {
			t.Errorf("%s lists unknown %s", file, name)
		}
	}
	for _, k := range DCRKeys() {
		if _, ok := vars[DCREnvPrefix+"_"+strings.ToUpper(k)]; !ok {
			t.Errorf("%s does not list %s_%s", file, DCREnvPrefix, strings.ToUpper(k))
		}
	}
	if _, err := LoadDCR(LoadOptions{DotEnv: file, Environ: []string{}}); err != nil {
		t.Fatalf("%s does not load: %v", file, err)
	}
}
