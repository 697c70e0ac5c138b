package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// getTee copies what the client reads of GET responses into buf.
type getTee struct {
	base http.RoundTripper
	buf  *testkit.SafeBuffer
}

func (g getTee) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := g.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(resp.Body, g.buf), resp.Body}
	}
	return resp, err
}

// TestServeWiresStreamKeepalive: MCPGW_STREAM_KEEPALIVE reaches the
// gateway as serve wires it: the go-sdk client's idle GET stream on the
// built-in route receives keep-alive comments (a short real period here;
// the test waits for the comment, not for a time).
func TestServeWiresStreamKeepalive(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ln, public := listenLocal(t)
	serveWiredOn(t, loadEnv(t, ln, iss.URL, "MCPGW_STREAM_KEEPALIVE=20ms"), ln)
	ctx := t.Context()

	resource := gateway.ResourceURL(public, "/mcp")
	read := &testkit.SafeBuffer{}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tokenTransport{token: iss.Mint(iss.Claims(resource)), base: getTee{base: tr, buf: read}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: resource, HTTPClient: client, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	testkit.WaitContains(t, read, ": keep-alive\n\n", testkit.DefaultTimeout)
}
