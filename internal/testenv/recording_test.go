package testenv_test

import (
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// bearerTransport adds a Bearer token and a custom header to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "bearer "+b.token)
	r.Header.Set("X-Test", "yes")
	return http.DefaultTransport.RoundTrip(r)
}

// TestRecordingUpstream: a go-sdk client's session reaches the recording
// upstream's echo tool, and every request is recorded, in order, with its
// method, headers and body; the accessors read the Bearer token (any
// scheme case), the JSON-RPC method and the echo message; Requests returns
// copies.
func TestRecordingUpstream(t *testing.T) {
	up := testenv.StartRecordingUpstream(t)
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: up.URL, DisableStandaloneSSE: true,
		HTTPClient: &http.Client{Transport: bearerTransport{token: "t0k"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "hi" {
		t.Fatalf("echo: %v %+v", err, res)
	}
	reqs := up.Requests()
	if len(reqs) != up.Len() || len(reqs) < 2 {
		t.Fatalf("%d requests recorded (Len %d), want the session's set-up, then tools/call", len(reqs), up.Len())
	}
	first, last := reqs[0], reqs[len(reqs)-1]
	method := first.RPCMethod() // the go-sdk's first request: server/discover or initialize
	if method == "" || method == "tools/call" || first.EchoMessage() != "" {
		t.Errorf("first request: method %q, echo %q", method, first.EchoMessage())
	}
	if last.Method != http.MethodPost || last.RPCMethod() != "tools/call" || last.EchoMessage() != "hi" {
		t.Errorf("last request: %s %q, echo %q", last.Method, last.RPCMethod(), last.EchoMessage())
	}
	for _, r := range reqs {
		if r.Bearer() != "t0k" || r.Header.Get("X-Test") != "yes" {
			t.Errorf("%s %s: Bearer %q, X-Test %q", r.Method, r.RPCMethod(), r.Bearer(), r.Header.Get("X-Test"))
		}
	}
	reqs[0].Header.Set("Authorization", "Basic x")
	reqs[0].Body[0] = 'X'
	if again := up.Requests()[0]; again.Bearer() != "t0k" || again.RPCMethod() != method {
		t.Error("Requests shares its headers or body with the recording")
	}
	if (testenv.RecordedRequest{Header: http.Header{"Authorization": {"Basic dTpw"}}}).Bearer() != "" {
		t.Error("Bearer read a Basic credential")
	}
}
