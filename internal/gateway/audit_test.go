package gateway_test

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/audit"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestAuditLogWritesNoTokens sends real tokens (valid, expired, forged,
// tampered, from another issuer, in the query string) through the gateway
// with the audit log as observer, and checks that no audit line contains
// a token, its payload or signature segment, a claim value other than
// the verified caller's subject, client id and issuer, or base64 JSON at
// all; and that every request did get its line.
func TestAuditLogWritesNoTokens(t *testing.T) {
	var out testkit.SafeBuffer
	e := newObservedEnv(t, audit.New(&out))
	const secretClaim = "claim-value-never-logged"
	now := time.Now().Unix()
	mint := func(over map[string]any) string {
		c := e.iss.Claims(e.resource)
		c["secret"], c["email"] = secretClaim, "alice@example.com"
		for k, v := range over {
			c[k] = v
		}
		return e.iss.Mint(c)
	}
	valid := mint(nil)
	expired := mint(map[string]any{"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200})
	forged := e.iss.Mint(e.iss.Claims(e.resource), authntest.WithKey(newRSAKey(t)))
	other := strings.Split(mint(map[string]any{"sub": "mallory"}), ".")
	v := strings.Split(valid, ".")
	tampered := v[0] + "." + other[1] + "." + v[2]
	wrongIssuer := mint(map[string]any{"iss": "https://evil.example"})

	type request struct{ path, auth, body string }
	reqs := []request{
		{"/mcp", valid, toolCall("search")},       // allowed: a line with the caller
		{"/mcp", valid, toolCall("admin_reset")},  // tool scope refused
		{"/mcp", valid, `{"jsonrpc":`},            // invalid JSON after verification
		{"/mcp", expired, toolCall("search")},     // refused tokens
		{"/mcp", forged, toolCall("search")},      //
		{"/mcp", tampered, toolCall("search")},    //
		{"/mcp", wrongIssuer, toolCall("search")}, //
		{"/mcp", valid + "!", ping},               // not a b64token
		{"/mcp?access_token=" + valid, "", ping},  // a token in the URI
	}
	ids := map[string]bool{}
	for _, r := range reqs {
		auth := ""
		if r.auth != "" {
			auth = "Bearer " + r.auth
		}
		resp := e.post(t, r.path, auth, nil, r.body)
		ids[resp.Header.Get("X-Request-Id")] = true
	}
	// Every request wrote (at least) its line before its response ended.
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return strings.Count(out.String(), "\n") >= len(reqs) }, "the audit lines")
	log := out.String()

	tokens := []string{valid, expired, forged, tampered, wrongIssuer}
	for _, tok := range tokens {
		seg := strings.Split(tok, ".")
		for what, s := range map[string]string{"token": tok, "payload segment": seg[1], "signature segment": seg[2]} {
			if strings.Contains(log, s) {
				t.Errorf("the audit log contains a %s:\n%s", what, log)
			}
		}
	}
	for _, s := range []string{"eyJ", secretClaim, "alice@example.com", "mallory"} {
		if strings.Contains(log, s) {
			t.Errorf("the audit log contains %q:\n%s", s, log)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(log))
	allowed := 0
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		delete(ids, l["request_id"].(string))
		if l["decision"] == "allow" {
			allowed++
			if l["subject"] != authntest.Subject || l["client_id"] != authntest.ClientID || l["name"] != "search" {
				t.Errorf("allowed line without the caller or tool: %s", sc.Text())
			}
		}
	}
	if len(ids) != 0 || allowed != 1 {
		t.Fatalf("%d requests without an audit line, %d allowed lines (want 1):\n%s", len(ids), allowed, log)
	}
}
