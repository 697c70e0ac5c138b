package config

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// errText is the message of the owning package's verdict, which config must
// repeat under the key; a rule that accepts the value fails the test.
func errText(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("the owning package accepts the value: the case tests nothing")
	}
	return err.Error()
}

// TestGatewayRulesComeFromOwners: each rule is decided by the package that
// owns it (scope syntax: oauthmeta; provider names and which providers issue
// tokens without aud: idp), and Validate reports the key.
func TestGatewayRulesComeFromOwners(t *testing.T) {
	scopeMsg := "is not a valid scope token (RFC 6749 section 3.3)"
	tests := []struct {
		name   string
		mutate func(*Config)
		owner  bool   // the owning package's verdict on the value: must be false
		want   string // key and message
	}{
		{"non-ASCII required scope", func(c *Config) { c.RequiredScopes = []string{"mcp", "caf\u00e9"} },
			oauthmeta.ValidScopeToken("caf\u00e9"), `required_scopes[1]: "café" ` + scopeMsg},
		{"control character in scopes_supported", func(c *Config) { c.ScopesSupported = []string{"a\tb"} },
			oauthmeta.ValidScopeToken("a\tb"), `scopes_supported[0]: "a\tb" ` + scopeMsg},
		{"route required scope", func(c *Config) { c.Routes = []Route{{Path: "/mcp", RequiredScopes: []string{`a"b`}}} },
			oauthmeta.ValidScopeToken(`a"b`), `routes[0].required_scopes[0]: "a\"b" ` + scopeMsg},
		{"tool scope", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", ToolScopes: map[string][]string{"get*": {"ok", `a\b`}}}}
		}, oauthmeta.ValidScopeToken(`a\b`), `routes[0].tool_scopes["get*"][1]: "a\\b" ` + scopeMsg},
		{"resource scope", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", ResourceScopes: map[string][]string{"file:*": {""}}}}
		}, oauthmeta.ValidScopeToken(""), `routes[0].resource_scopes["file:*"][0]: "" ` + scopeMsg},
		{"provider case", func(c *Config) { c.Provider = "Cognito" },
			lookupOK("Cognito"), `provider: "Cognito" is not one of ` + strings.Join(idp.Names(), ", ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.owner {
				t.Fatal("the owning package accepts the value: the case tests nothing")
			}
			c := valid()
			tt.mutate(&c)
			c.ApplyDefaults() // as Load does: a new route gets upstream builtin
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func lookupOK(name string) bool { _, ok := idp.Lookup(name); return ok }

// TestProvidersFromIdP: every provider idp knows is accepted as is (tokens
// must name the resource in aud), and insecure_allow_missing_audience is
// refused exactly for the providers whose profile says their access tokens
// always carry aud, and without a client-id allowlist.
func TestProvidersFromIdP(t *testing.T) {
	const misuse = "insecure_allow_missing_audience:"
	for _, name := range idp.Names() {
		p, _ := idp.Lookup(name)
		c := valid()
		c.Provider = name
		if err := c.Validate(); err != nil {
			t.Errorf("provider %s: Validate() = %v", name, err)
		}
		for _, allow := range []func(*Config){
			func(c *Config) { c.AllowedClientIDs = []string{"app"} },
			func(c *Config) { c.ClientIDsTable, c.AWSRegion = "mcp-dcr", "us-east-1" },
		} {
			c := valid()
			c.Provider, c.InsecureAllowMissingAudience = name, true
			allow(&c)
			err := c.Validate()
			if got := err != nil && strings.Contains(err.Error(), misuse); got == p.MayOmitAudience {
				t.Errorf("provider %s with the switch and an allowlist: Validate() = %v; want a %s problem: %v", name, err, misuse, !p.MayOmitAudience)
			}
		}
		c = valid()
		c.Provider, c.InsecureAllowMissingAudience = name, true
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), misuse+" needs allowed_client_ids or client_ids_table") {
			t.Errorf("provider %s with the switch and no allowlist: Validate() = %v", name, err)
		}
	}
}

// TestDCRRulesComeFromDCR: each registration-policy and token-lifetime key
// is checked with package dcr's rule (the one dcr.Policy.Validate and the
// service apply at start), reported under the key. Several cases were
// accepted by a hand-written copy of the rule and refused only when mcp-dcr
// started.
func TestDCRRulesComeFromDCR(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*DCR)
		owner  error // the dcr rule's verdict on the value
		want   string
	}{
		{"scope not a token", func(c *DCR) { c.AllowedScopes = []string{"openid", "caf\u00e9"} },
			dcr.CheckAllowedScope("caf\u00e9"), `allowed_scopes[1]: "café": `},
		{"offline_access default", func(c *DCR) { c.DefaultScopes = []string{"offline_access"} },
			dcr.CheckAllowedScope("offline_access"), `default_scopes[0]: "offline_access": `},
		{"default not allowed", func(c *DCR) { c.AllowedScopes, c.DefaultScopes = []string{"openid"}, []string{"openid", "x"} },
			dcr.CheckDefaultScope("x", []string{"openid"}), `default_scopes[1]: "x": `},
		{"pattern wildcard host", func(c *DCR) { c.RedirectURIPatterns = []string{"https://*/cb"} },
			dcr.CheckRedirectPattern("https://*/cb"), `redirect_uri_patterns[0]: "https://*/cb": `},
		{"pattern http", func(c *DCR) { c.RedirectURIPatterns = []string{"https://ok.example.com/cb", "http://x.example/cb"} },
			dcr.CheckRedirectPattern("http://x.example/cb"), `redirect_uri_patterns[1]: "http://x.example/cb": `},
		{"scheme upper case", func(c *DCR) { c.PrivateUseSchemes = []string{"Cursor"} },
			dcr.CheckPrivateUseScheme("Cursor"), `private_use_schemes[0]: "Cursor" is not an admissible`},
		{"scheme ftp", func(c *DCR) { c.PrivateUseSchemes = []string{"cursor", "ftp"} },
			dcr.CheckPrivateUseScheme("ftp"), `private_use_schemes[1]: "ftp" is not an admissible`},
		{"quota below default max", func(c *DCR) { c.AppClientQuota = 500 },
			dcr.CheckMaxRegistrations(dcr.DefaultMaxRegistrations, 500), "max_registrations: 900 (unset: the policy default) "},
		{"quota too large", func(c *DCR) { c.AppClientQuota = dcr.MaxAppClientQuota + 1 },
			dcr.CheckAppClientQuota(dcr.MaxAppClientQuota + 1), "app_client_quota: 1000001 "},
		{"negative ttl", func(c *DCR) { c.RegistrationTTL = -time.Hour },
			dcr.CheckRegistrationTTL(-time.Hour), "registration_ttl: -1h0m0s "},
		{"prefix too long", func(c *DCR) { c.ClientNamePrefix = strings.Repeat("m", 65) },
			dcr.CheckClientNamePrefix(strings.Repeat("m", 65)), "client_name_prefix: "},
		{"access validity not whole minutes", func(c *DCR) { c.AccessTokenValidity = 61*time.Minute + 30*time.Second },
			dcr.CheckAccessTokenValidity(61*time.Minute + 30*time.Second), "access_token_validity: 1h1m30s "},
		{"id validity too long", func(c *DCR) { c.IDTokenValidity = 25 * time.Hour },
			dcr.CheckAccessTokenValidity(25 * time.Hour), "id_token_validity: 25h0m0s "},
		{"refresh validity not above access", func(c *DCR) { c.AccessTokenValidity, c.RefreshTokenValidity = 24*time.Hour, 2*time.Hour },
			dcr.CheckRefreshTokenValidity(2*time.Hour, 24*time.Hour, time.Hour), "refresh_token_validity: 2h0m0s "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner := errText(t, tt.owner)
			c := validDCR()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), owner) {
				t.Fatalf("Validate() = %v, want it to contain %q and dcr's %q", err, tt.want, owner)
			}
		})
	}
}

// TestDCRAcceptsWhatDCRAccepts: values the owning rule admits are not
// refused by a stricter copy in config.
func TestDCRAcceptsWhatDCRAccepts(t *testing.T) {
	prefix := strings.Repeat("m", 40) // an old copy capped the prefix at 32
	if err := dcr.CheckClientNamePrefix(prefix); err != nil {
		t.Fatal(err)
	}
	c := validDCR()
	c.ClientNamePrefix = prefix
	c.RedirectURIPatterns = []string{"https://*.corp.example.com/cb", "https://app.example.com:*/oauth/*"}
	c.AccessTokenValidity, c.IDTokenValidity, c.RefreshTokenValidity = 5*time.Minute, 5*time.Minute, time.Hour
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
}

// TestRuleProblemsAllAtOnce: one Validate call reports every broken rule,
// each under its key.
func TestRuleProblemsAllAtOnce(t *testing.T) {
	c := valid()
	c.Provider = "ping"
	c.RequiredScopes = []string{"a b"}
	c.Routes = []Route{{Path: "/mcp", RequiredScopes: []string{""}, ToolScopes: map[string][]string{"t": {`"`}}}}
	c.ApplyDefaults()
	err := c.Validate()
	for _, key := range []string{"provider:", "required_scopes[0]:", "routes[0].required_scopes[0]:", `routes[0].tool_scopes["t"][0]:`} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate() = %v, does not name %s", err, key)
		}
	}

	d := validDCR()
	d.AllowedScopes = []string{"offline_access"}
	d.RedirectURIPatterns = []string{"https://*/cb"}
	d.PrivateUseSchemes = []string{"https"}
	d.AppClientQuota = 500
	d.RegistrationTTL = -time.Hour
	d.ClientNamePrefix = "mcp/"
	d.AccessTokenValidity = time.Minute
	err = d.Validate()
	for _, key := range []string{"allowed_scopes[0]:", "redirect_uri_patterns[0]:", "private_use_schemes[0]:", "max_registrations:",
		"registration_ttl:", "client_name_prefix:", "access_token_validity:"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("DCR.Validate() = %v, does not name %s", err, key)
		}
	}
}
