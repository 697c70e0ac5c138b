//go:build unix

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestUpstreamFailures: a client that disconnects cancels the upstream
// request; an upstream that dies mid-stream ends the client's stream, and
// then gets 502 with a JSON-RPC error; a slow upstream is cut at the route's
// timeout with a JSON-RPC error; the gateway keeps serving; and nothing is
// left running: no upstream request in flight, and this process's goroutines
// (client and upstream side) back to where they were.
func TestUpstreamFailures(t *testing.T) {
	rec := startRecorder(t)
	stop := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers: the gateway must give up
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); stall.Close() })
	routes := []gatewayRoute{
		{Path: "/mcp/rec", Upstream: rec.srv.URL + "/rec"},
		{Path: "/mcp/stall", Upstream: stall.URL + "/mcp", Timeout: "2s"},
	}
	env := startUpstreamGateway(t, routes, nil)
	url := env.resource("/mcp/rec")
	tok, err := getScopedToken(t, env.op.Issuer, url, "mcp:tools", "dave")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	session := openSession(t, client, url, tok)
	// From here on, nothing may be left running once the test is over: this
	// process's goroutines (client and upstream side) must come back to the
	// count they have now.
	testkit.CheckGoroutines(t)

	t.Run("client disconnect cancels the upstream request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			resp, err := mcpPost(ctx, client, url, tok, session, callSlow(7))
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			errc <- err
		}()
		waitStarted(t, rec)
		cancel()
		<-errc
		rec.settled(t)
	})

	t.Run("upstream dies mid-stream", func(t *testing.T) {
		resp, err := mcpPost(context.Background(), client, url, tok, session, callSlow(8))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		waitStarted(t, rec)
		rec.srv.CloseClientConnections()
		done := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, resp.Body); close(done) }()
		testkit.WaitDone(t, done, testkit.DefaultTimeout, "the client's stream to end after the upstream died")
		rec.srv.Listener.Close() // down for good
		resp2, err := mcpPost(context.Background(), client, url, tok, "", initializeBody)
		if err != nil {
			t.Fatal(err)
		}
		expectJSONRPCError(t, resp2, http.StatusBadGateway)
	})

	t.Run("slow upstream times out", func(t *testing.T) {
		stallURL := env.resource("/mcp/stall")
		stallTok, err := getScopedToken(t, env.op.Issuer, stallURL, "mcp:tools", "dave")
		if err != nil {
			t.Fatal(err)
		}
		// The stall upstream never answers, so any answer at all comes from
		// the gateway giving up (the route's timeout is 2s). The context only
		// bounds a broken gateway's hang; it is not the expected duration.
		ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
		defer cancel()
		resp, err := mcpPost(ctx, client, stallURL, stallTok, "", initializeBody)
		if err != nil {
			t.Fatalf("no answer from the gateway for a stalled upstream (route timeout 2s): %v", err)
		}
		expectJSONRPCError(t, resp, http.StatusBadGateway, http.StatusGatewayTimeout)
	})

	if resp, err := client.Get(env.gateway.BaseURL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("gateway not healthy after the failures: %v %v", resp, err)
	} else {
		_ = resp.Body.Close()
	}
	client.CloseIdleConnections()
	stall.CloseClientConnections()
}

// callSlow calls the recording upstream's slow tool (request id id) with a
// progress token, so that the answer is an SSE stream that has started.
func callSlow(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"progressToken":"p%d"}}}`, id, id)
}

// mcpPost POSTs one JSON-RPC message with a bearer token (and a session, if
// any) and returns the response unread.
func mcpPost(ctx context.Context, c *http.Client, url, token, session, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	}
	return c.Do(req)
}

// openSession initializes an MCP session through the gateway and returns its id.
func openSession(t *testing.T, c *http.Client, url, token string) string {
	t.Helper()
	resp, err := mcpPost(context.Background(), c, url, token, "", initializeBody)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: %s, session %q\n%s", resp.Status, session, body)
	}
	resp, err = mcpPost(context.Background(), c, url, token, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %s, want 202", resp.Status)
	}
	return session
}

// waitStarted waits for the recording upstream's slow tool to begin.
func waitStarted(t *testing.T, rec *recorder) {
	t.Helper()
	testkit.Recv(t, rec.started, testkit.DefaultTimeout, "the slow tool to start upstream")
}

// expectJSONRPCError reads resp and requires one of the statuses and a
// JSON-RPC error object as the body.
func expectJSONRPCError(t *testing.T, resp *http.Response, statuses ...int) {
	t.Helper()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	var msg struct {
		JSONRPC string `json:"jsonrpc"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if !slices.Contains(statuses, resp.StatusCode) || json.Unmarshal(body, &msg) != nil || msg.JSONRPC != "2.0" || msg.Error == nil {
		t.Errorf("got %s %q, want one of %v with a JSON-RPC error", resp.Status, body, statuses)
	}
}
