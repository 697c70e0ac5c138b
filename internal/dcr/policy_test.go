package dcr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

func TestDefaultPolicy(t *testing.T) {
	p := dcr.DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.MaxRegistrations != 900 || p.AppClientQuota != 1000 || p.RegistrationTTL != 90*24*time.Hour ||
		!p.ReusePublicRegistrations || p.ClientNamePrefix != "mcp-" || p.AllowClientCredentials || p.InsecureAnyHTTPSRedirect ||
		p.LoopbackCallbackLimit != 20 {
		t.Errorf("DefaultPolicy() = %+v", p)
	}
	for _, pat := range dcr.KnownClientRedirectPatterns() {
		q := dcr.DefaultPolicy()
		q.RedirectPatterns = []string{pat}
		if err := q.Validate(); err != nil {
			t.Errorf("known pattern %q: %v", pat, err)
		}
	}
}

// TestPolicyValidateListsEveryProblem checks that one Validate call reports
// all problems, each naming its field.
func TestPolicyValidateListsEveryProblem(t *testing.T) {
	p := dcr.Policy{
		AllowedScopes:     []string{"openid", "bad scope", "offline_access"},
		DefaultScopes:     []string{"mcp/other"},
		RedirectPatterns:  []string{"https://*/cb", "http://x.example/cb"},
		PrivateUseSchemes: []string{"https", "Cursor", "javascript", "com.example.app"},
		MaxRegistrations:  1000,
		AppClientQuota:    1000,
		RegistrationTTL:   -time.Hour,
		ClientNamePrefix:  "mcp/",
	}
	err := p.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`allowed scope "bad scope"`, `allowed scope "offline_access"`, `default scope "mcp/other"`,
		`redirect pattern "https://*/cb"`, `redirect pattern "http://x.example/cb"`,
		`private-use scheme "https"`, `private-use scheme "Cursor"`, `private-use scheme "javascript"`,
		"max registrations 1000", "registration TTL", `client name prefix "mcp/"`, "loopback callback limit 0",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Validate() does not mention %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "com.example.app") {
		t.Errorf("a valid scheme was reported:\n%s", msg)
	}
	if err := (dcr.Policy{}).Validate(); err == nil || !strings.Contains(err.Error(), "at least one scope") {
		t.Errorf("zero Policy: %v", err)
	}
}

// TestLoopbackCallbackLimitBounds: 1..99 (Cognito's 100 callback URLs
// minus at least one registered).
func TestLoopbackCallbackLimitBounds(t *testing.T) {
	for n, ok := range map[int]bool{-1: false, 0: false, 1: true, 20: true, 99: true, 100: false} {
		p := dcr.DefaultPolicy()
		p.LoopbackCallbackLimit = n
		if err := p.Validate(); (err == nil) != ok {
			t.Errorf("limit %d: %v, want ok=%v", n, err, ok)
		}
	}
}

func TestNewServiceRejectsBadPolicy(t *testing.T) {
	p := dcr.DefaultPolicy()
	p.MaxRegistrations = 0
	if _, err := dcr.NewService(dcrtest.NewFakeApps(), dcrtest.NewMemStore(), p, dcr.ServiceOptions{}); err == nil {
		t.Error("NewService accepted an invalid policy")
	}
	if _, err := dcr.NewService(nil, dcrtest.NewMemStore(), dcr.DefaultPolicy(), dcr.ServiceOptions{}); err == nil {
		t.Error("NewService accepted nil AppClients")
	}
	p = dcr.DefaultPolicy()
	p.AllowedScopes = []string{"openid"}
	s, err := dcr.NewService(dcrtest.NewFakeApps(), dcrtest.NewMemStore(), p, dcr.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.AllowedScopes[0] = "mutated"
	if got := s.Policy().AllowedScopes; len(got) != 1 || got[0] != "openid" {
		t.Errorf("the Service shares the caller's slices: %v", got)
	}
}
