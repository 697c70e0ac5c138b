package gateway_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestChallengesGolden(t *testing.T) {
	e := newEnv(t, envOpts{})
	valid := e.token(nil)
	cases := []struct {
		name  string
		path  string
		auth  []string
		wantS int
	}{
		{"no token", "/mcp", nil, 401},
		{"basic scheme is no bearer token", "/mcp", []string{"Basic dXNlcjpwYXNz"}, 401},
		{"empty bearer", "/mcp", []string{"Bearer "}, 401},
		{"not a b64token", "/mcp", []string{"Bearer a b"}, 401},
		{"two authorization headers", "/mcp", []string{"Bearer " + valid, "Bearer " + valid}, 400},
		{"token in query", "/mcp?access_token=" + valid, nil, 400},
		{"token in query and header", "/mcp?access_token=x", []string{"Bearer " + valid}, 400},
		{"garbage token", "/mcp", []string{"Bearer abc.def.ghi"}, 401},
		{"expired", "/mcp", []string{"Bearer " + e.token(map[string]any{"exp": 1000, "iat": 900, "nbf": 900})}, 401},
		{"wrong audience", "/mcp", []string{"Bearer " + e.token(map[string]any{"aud": "https://other.example/mcp"})}, 401},
		{"insufficient scope", "/mcp", []string{"Bearer " + e.token(map[string]any{"scope": "mcp:write"})}, 403},
		{"lowercase scheme accepted", "/mcp", []string{"bearer " + valid}, 200},
	}
	var out strings.Builder
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, e.public+c.path, strings.NewReader(ping))
		for _, a := range c.auth {
			req.Header.Add("Authorization", a)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.wantS {
			t.Errorf("%s: status %d, want %d (%s)", c.name, resp.StatusCode, c.wantS, body)
		}
		if got := len(resp.Header.Values("WWW-Authenticate")); c.wantS != 200 && got != 1 {
			t.Errorf("%s: %d WWW-Authenticate headers, want exactly one", c.name, got)
		}
		fmt.Fprintf(&out, "## %s\nstatus: %d\nwww-authenticate: %s\nbody: %s\n", c.name, resp.StatusCode,
			resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(body))
	}
	testkit.Golden(t, "testdata/challenges.golden", []byte(strings.ReplaceAll(out.String(), e.public, "PUBLIC")))
}

func TestMaliciousTokensNeverReachTheTool(t *testing.T) {
	e := newEnv(t, envOpts{})
	attacks := authntest.Attacks(e.iss, e.resource)
	if len(attacks) < 30 {
		t.Fatalf("only %d attack classes; want at least 30", len(attacks))
	}
	for _, a := range attacks {
		t.Run(a.Name, func(t *testing.T) {
			switch {
			case strings.ContainsAny(a.Token, "\r\n"):
				// Not a legal header value: net/http refuses it before any
				// handler runs. Prove that over a raw connection.
				if got := rawStatus(t, e.public, "Bearer "+a.Token); got != http.StatusBadRequest {
					t.Fatalf("raw request status %d, want 400 from the HTTP server", got)
				}
				return
			case strings.TrimLeft(a.Token, " ") != a.Token:
				// RFC 6750 §2.1: "Bearer" 1*SP b64token. Extra spaces after
				// the scheme are legal at the HTTP layer, so the token that
				// arrives is the well-formed one; authn rejects leading
				// whitespace only when handed a raw token directly.
				return
			}
			resp := e.post(t, "/mcp", "Bearer "+a.Token, nil, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
			body := readAll(t, resp.Body)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
			}
			if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("challenge %q lacks invalid_token", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if n := e.reached.Load(); n != 0 {
		t.Fatalf("%d malicious requests reached the tool handler", n)
	}
	if n := e.iss.AttackerHits(); n != 0 {
		t.Fatalf("the attacker's key server was contacted %d times", n)
	}
	// The same gateway still admits a good token.
	if resp := e.post(t, "/mcp", "Bearer "+e.token(nil), nil, ping); resp.StatusCode != 200 {
		t.Fatalf("valid token: %d", resp.StatusCode)
	}
}

// rawStatus sends a POST with the given Authorization value byte for byte
// and returns the status the server answered.
func rawStatus(t *testing.T, base, auth string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Length: 2\r\n\r\n{}", auth)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
