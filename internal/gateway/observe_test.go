package gateway_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// answer stands in for an upstream: it answers every request of the body
// with an empty result (an array for a batch), so that authz's check of
// the answer passes.
var answer = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body := call.From(r.Context()).Body
	var out []json.RawMessage
	for _, m := range body.Requests() {
		out = append(out, json.RawMessage(`{"jsonrpc":"2.0","id":`+string(m.ID)+`,"result":{}}`))
	}
	w.Header().Set("Content-Type", "application/json")
	if body.Batch {
		_ = json.NewEncoder(w).Encode(out)
		return
	}
	_, _ = w.Write(out[0])
})

// newObservedEnv is the test gateway with the /mcp route behind per-tool
// authorization (admin_* needs mcp:admin), in front of answer, and obs
// as its observers.
func newObservedEnv(t *testing.T, obs ...observe.Observer) *env {
	t.Helper()
	return newObservedEnvWith(t, answer, obs...)
}

// newObservedEnvWith is newObservedEnv in front of upstream.
func newObservedEnvWith(t *testing.T, upstream http.Handler, obs ...observe.Observer) *env {
	t.Helper()
	mw, err := authz.New(authz.Policy{Tools: map[string][]string{"admin_*": {"mcp:admin"}}},
		authz.Options{RequiredScopes: []string{"mcp:read"}})
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, envOpts{handler: mw.Wrap(upstream), observers: obs})
}

// eventsOf waits for the n events of the HTTP request whose X-Request-Id
// is id, and fails if there are more.
func eventsOf(t *testing.T, rec *observetest.Recorder, id string, n int) []observe.Event {
	t.Helper()
	of := func() []observe.Event {
		var out []observe.Event
		for _, e := range rec.Events() {
			if e.RequestID == id {
				out = append(out, e)
			}
		}
		return out
	}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return len(of()) >= n }, "the request's events")
	if got := of(); len(got) != n {
		t.Fatalf("%d events for request %s, want %d: %+v", len(got), id, n, got)
	}
	return of()
}

// newRSAKey is a key the issuer never published (a forger's).
func newRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func toolCall(name string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + name + `","arguments":{}}}`
}

// TestObserverSeesEveryDecision drives the real gateway handler and
// checks the one event each request must produce: every refusal with its
// reason, before or after verification, and the allowed call with its
// caller. A refusal before the token was verified names no caller.
func TestObserverSeesEveryDecision(t *testing.T) {
	rec := observetest.New()
	e := newObservedEnv(t, rec)
	now := time.Now().Unix()
	bearer := func(over map[string]any) string { return "Bearer " + e.token(over) }
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`
	cases := []struct {
		name     string
		auth     string
		hdr      map[string]string
		body     string
		status   int
		decision observe.Decision
		reason   observe.Reason
		verified bool // the caller was verified before the decision
		method   string
		opName   string
	}{
		{name: "no token", body: ping, status: 401, decision: observe.DecisionDeny, reason: observe.ReasonMissing},
		{name: "malformed Authorization", auth: "Bearer a!b", body: ping, status: 401,
			decision: observe.DecisionDeny, reason: observe.ReasonMalformed},
		{name: "not a JWT", auth: "Bearer not-a-jwt", body: ping, status: 401,
			decision: observe.DecisionDeny, reason: "malformed"},
		{name: "bad signature", auth: "Bearer " + e.iss.Mint(e.iss.Claims(e.resource), authntest.WithKey(newRSAKey(t))),
			body: ping, status: 401, decision: observe.DecisionDeny, reason: "signature"},
		{name: "expired", auth: bearer(map[string]any{"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}),
			body: ping, status: 401, decision: observe.DecisionDeny, reason: "expired"},
		{name: "wrong issuer", auth: bearer(map[string]any{"iss": "https://evil.example"}),
			body: ping, status: 401, decision: observe.DecisionDeny, reason: "issuer"},
		{name: "wrong audience", auth: bearer(map[string]any{"aud": "https://other.example/mcp"}),
			body: ping, status: 401, decision: observe.DecisionDeny, reason: "audience"},
		{name: "disallowed Origin", auth: bearer(nil), hdr: map[string]string{"Origin": "https://evil.example"},
			body: ping, status: 403, decision: observe.DecisionDeny, reason: observe.ReasonOrigin},
		{name: "required scope missing", auth: bearer(map[string]any{"scope": "mcp:write"}), body: ping, status: 403,
			decision: observe.DecisionDeny, reason: observe.ReasonScope, verified: true},
		{name: "tool scope missing", auth: bearer(nil), body: toolCall("admin_reset"), status: 403,
			decision: observe.DecisionDeny, reason: observe.ReasonScope, verified: true, method: "tools/call", opName: "admin_reset"},
		{name: "body over max_body_bytes", auth: bearer(nil), body: big, status: 413,
			decision: observe.DecisionDeny, reason: observe.ReasonBodyTooLarge, verified: true},
		{name: "invalid JSON", auth: bearer(nil), body: `{"jsonrpc":`, status: 400,
			decision: observe.DecisionDeny, reason: observe.ReasonInvalidRequest, verified: true},
		{name: "allowed tool call", auth: bearer(nil), body: toolCall("search"), status: 200,
			decision: observe.DecisionAllow, verified: true, method: "tools/call", opName: "search"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.post(t, "/mcp", c.auth, c.hdr, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			id := resp.Header.Get("X-Request-Id")
			if id == "" {
				t.Fatal("no X-Request-Id")
			}
			ev := eventsOf(t, rec, id, 1)[0]
			if ev.Decision != c.decision || ev.Reason != c.reason || ev.Status != c.status {
				t.Fatalf("event %s/%s %d, want %s/%s %d (detail %q)", ev.Decision, ev.Reason, ev.Status,
					c.decision, c.reason, c.status, ev.Detail)
			}
			if ev.Route != "/mcp" || ev.HTTPMethod != http.MethodPost || ev.RemoteIP != "127.0.0.1" {
				t.Fatalf("event route %q, http method %q, remote ip %q", ev.Route, ev.HTTPMethod, ev.RemoteIP)
			}
			if ev.Method != c.method || ev.Name != c.opName {
				t.Fatalf("event operation %+v, want %q %q", ev.Operation, c.method, c.opName)
			}
			if c.decision != observe.DecisionAllow && ev.Detail == "" {
				t.Fatal("a refusal without detail")
			}
			caller := ev.Subject != "" || ev.ClientID != "" || ev.Issuer != ""
			switch {
			case !c.verified && caller:
				t.Fatalf("a refusal before verification names a caller: %q %q %q", ev.Subject, ev.ClientID, ev.Issuer)
			case c.verified && (ev.Subject != authntest.Subject || ev.ClientID != authntest.ClientID || ev.Issuer != e.iss.URL):
				t.Fatalf("caller %q %q %q, want %q %q %q", ev.Subject, ev.ClientID, ev.Issuer,
					authntest.Subject, authntest.ClientID, e.iss.URL)
			}
		})
	}
}

// TestObserverSeesEveryOperationOfABatch: a batch (allowed under protocol
// 2025-03-26) gives one event per request, sharing the request id (the
// X-Request-Id header) and carrying batch 2.
func TestObserverSeesEveryOperationOfABatch(t *testing.T) {
	rec := observetest.New()
	e := newObservedEnv(t, rec)
	body := `[` + ping + `,{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search"}}]`
	resp := e.post(t, "/mcp", "Bearer "+e.token(nil), map[string]string{"MCP-Protocol-Version": "2025-03-26"}, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	evs := eventsOf(t, rec, resp.Header.Get("X-Request-Id"), 2)
	want := []observe.Operation{{Method: "ping"}, {Method: "tools/call", Name: "search"}}
	for i, ev := range evs {
		if ev.Operation != want[i] || ev.Batch != 2 || ev.Decision != observe.DecisionAllow || ev.Status != 200 ||
			ev.Subject != authntest.Subject {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}

	// Under 2025-06-18 batches are refused: both operations are.
	resp = e.post(t, "/mcp", "Bearer "+e.token(nil), map[string]string{"MCP-Protocol-Version": "2025-06-18"}, body)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for i, ev := range eventsOf(t, rec, resp.Header.Get("X-Request-Id"), 2) {
		if ev.Operation != want[i] || ev.Batch != 2 || ev.Decision != observe.DecisionDeny ||
			ev.Reason != observe.ReasonInvalidRequest || ev.Status != http.StatusBadRequest {
			t.Fatalf("refused batch, event %d: %+v", i, ev)
		}
	}
}

// TestObserverSeesAnUnforwardableAnswer: an upstream answer that per-tool
// authorization cannot check is not forwarded (502), and the event says
// the call failed upstream.
func TestObserverSeesAnUnforwardableAnswer(t *testing.T) {
	rec := observetest.New()
	garbage := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`not JSON-RPC`))
	})
	e := newObservedEnvWith(t, garbage, rec)
	resp := e.post(t, "/mcp", "Bearer "+e.token(nil), nil, toolCall("search"))
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ev := eventsOf(t, rec, resp.Header.Get("X-Request-Id"), 1)[0]
	if ev.Decision != observe.DecisionError || ev.Reason != observe.ReasonUpstream || ev.Status != http.StatusBadGateway ||
		ev.Method != "tools/call" || ev.Name != "search" || ev.Subject != authntest.Subject {
		t.Fatalf("event %+v", ev)
	}
}
