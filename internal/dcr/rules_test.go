package dcr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// TestCheckRules pins each exported rule, which both Policy.Validate and
// internal/config apply.
func TestCheckRules(t *testing.T) {
	long := strings.Repeat("m", 65)
	tests := []struct {
		name string
		err  error
		want string // "" means accepted
	}{
		{"scope", dcr.CheckAllowedScope("mcp/tools.read"), ""},
		{"scope empty", dcr.CheckAllowedScope(""), "scope token"},
		{"scope space", dcr.CheckAllowedScope("a b"), "scope token"},
		{"scope non-ASCII", dcr.CheckAllowedScope("caf\u00e9"), "scope token"},
		{"offline_access", dcr.CheckAllowedScope("offline_access"), "no such scope"},
		{"default allowed", dcr.CheckDefaultScope("openid", []string{"openid"}), ""},
		{"default not allowed", dcr.CheckDefaultScope("email", []string{"openid"}), "not among"},
		{"pattern", dcr.CheckRedirectPattern("https://*.corp.example.com/cb"), ""},
		{"pattern http", dcr.CheckRedirectPattern("http://app.example.com/cb"), "https://"},
		{"pattern wildcard tld", dcr.CheckRedirectPattern("https://example.*/cb"), "literal"},
		{"pattern fragment", dcr.CheckRedirectPattern("https://app.example.com/cb#x"), "'#'"},
		{"scheme", dcr.CheckPrivateUseScheme("com.example.app"), ""},
		{"scheme upper", dcr.CheckPrivateUseScheme("Cursor"), "lower-case"},
		{"scheme reserved", dcr.CheckPrivateUseScheme("ftp"), "reserved"},
		{"scheme chars", dcr.CheckPrivateUseScheme("my_app"), "only a-z"},
		{"quota", dcr.CheckAppClientQuota(1000), ""},
		{"quota zero", dcr.CheckAppClientQuota(0), "1..1000000"},
		{"quota huge", dcr.CheckAppClientQuota(dcr.MaxAppClientQuota + 1), "1..1000000"},
		{"max", dcr.CheckMaxRegistrations(999, 1000), ""},
		{"max at quota", dcr.CheckMaxRegistrations(1000, 1000), "below the app client quota 1000"},
		{"max zero", dcr.CheckMaxRegistrations(0, 1000), "positive"},
		{"ttl zero", dcr.CheckRegistrationTTL(0), ""},
		{"ttl negative", dcr.CheckRegistrationTTL(-time.Second), "negative"},
		{"prefix", dcr.CheckClientNamePrefix("mcp dcr@corp-"), ""},
		{"prefix empty", dcr.CheckClientNamePrefix(""), ""},
		{"prefix 64", dcr.CheckClientNamePrefix(long[:64]), ""},
		{"prefix 65", dcr.CheckClientNamePrefix(long), "at most 64"},
		{"prefix slash", dcr.CheckClientNamePrefix("mcp/"), "at most 64"},
		{"access 5m", dcr.CheckAccessTokenValidity(5 * time.Minute), ""},
		{"access 24h", dcr.CheckAccessTokenValidity(24 * time.Hour), ""},
		{"access 4m", dcr.CheckAccessTokenValidity(4 * time.Minute), "outside Cognito's 5m..24h"},
		{"access seconds", dcr.CheckAccessTokenValidity(90 * time.Minute / 7), "whole number of minutes"},
		{"refresh", dcr.CheckRefreshTokenValidity(720*time.Hour, time.Hour, time.Hour), ""},
		{"refresh 10y+", dcr.CheckRefreshTokenValidity(3651*24*time.Hour, time.Hour, time.Hour), "outside Cognito's 1h..87600h"},
		{"refresh below id", dcr.CheckRefreshTokenValidity(2*time.Hour, time.Hour, 3*time.Hour), "must exceed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch {
			case tt.want == "" && tt.err != nil:
				t.Errorf("refused: %v", tt.err)
			case tt.want != "" && (tt.err == nil || !strings.Contains(tt.err.Error(), tt.want)):
				t.Errorf("err = %v, want it to contain %q", tt.err, tt.want)
			}
		})
	}
}
