package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const limitsPing = `{"jsonrpc":"2.0","id":1,"method":"ping"}`

// limitsServer serves the gateway as serve wires it from env (MCPGW_*
// settings added to listen, public_url and issuer) and returns its base
// URL and a valid token for /mcp.
func limitsServer(t *testing.T, env ...string) (base, token string) {
	t.Helper()
	iss := authntest.NewIssuer(t)
	ln, base := listenLocal(t)
	serveWiredOn(t, loadEnv(t, ln, iss.URL, env...), ln)
	return base, iss.Mint(iss.Claims(gateway.ResourceURL(base, "/mcp")))
}

// postAs POSTs a ping to base/mcp with token (none if "") from the client
// address xff names (the test is the trusted proxy), and returns the
// status and body.
func postAs(t *testing.T, base, token, xff string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(limitsPing))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := (&http.Client{Timeout: testkit.DefaultTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// slowPost sends a POST's headers and half its body, then waits for the
// answer.
func slowPost(t *testing.T, base, token string) (int, string) {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testkit.DefaultTimeout)) // a failure bound
	fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n%s",
		addr, token, len(limitsPing), limitsPing[:10])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeWiresLimits: trusted_proxies, the per-IP and per-principal rate
// limits and body_read_timeout reach the gateway as serve wires them.
func TestServeWiresLimits(t *testing.T) {
	base, token := limitsServer(t, "MCPGW_TRUSTED_PROXIES=127.0.0.1",
		"MCPGW_RATE_LIMIT_PER_IP=0.001", "MCPGW_RATE_LIMIT_PER_IP_BURST=2",
		"MCPGW_RATE_LIMIT_PER_PRINCIPAL=0.001", "MCPGW_RATE_LIMIT_PER_PRINCIPAL_BURST=3",
		"MCPGW_BODY_READ_TIMEOUT=100ms")
	if got, body := slowPost(t, base, token); got != http.StatusRequestTimeout {
		t.Fatalf("slow body: %d %s", got, body)
	}
	for i, want := range []int{401, 401, 429} {
		if got, body := postAs(t, base, "", "192.0.2.1"); got != want {
			t.Fatalf("no token from 192.0.2.1, request %d: %d, want %d: %s", i, got, want, body)
		}
	}
	if got, body := postAs(t, base, "", "192.0.2.2"); got != http.StatusUnauthorized {
		t.Fatalf("another client address behind the trusted proxy: %d %s", got, body)
	}
	for i, want := range []int{200, 200, 429} { // the slow body spent one
		got, body := postAs(t, base, token, fmt.Sprintf("198.51.100.%d", i))
		if got != want {
			t.Fatalf("principal's request %d: %d, want %d: %s", i, got, want, body)
		}
		if want == 429 && !strings.Contains(body, "rate limit exceeded for this principal") {
			t.Fatalf("429 body %s", body)
		}
	}
}

// TestServeWiresStreamCap: a route's max_streams_per_principal reaches the
// gateway's front: with 1, a body still arriving holds the principal's
// only slot and its next request gets 429.
func TestServeWiresStreamCap(t *testing.T) {
	base, token := limitsServer(t, `MCPGW_ROUTES=[{"path":"/mcp","max_streams_per_principal":1}]`)
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, token, len(limitsPing), limitsPing[:10])
	var (
		got  int
		body string
	)
	if !testkit.Poll(testkit.DefaultTimeout, func() bool {
		got, body = postAs(t, base, token, "")
		return got == http.StatusTooManyRequests
	}) {
		t.Fatalf("the slow body did not hold the principal's only slot: last answer %d %s", got, body)
	}
	if !strings.Contains(body, "too many concurrent requests for this principal") {
		t.Fatalf("429 body %s", body)
	}
}
