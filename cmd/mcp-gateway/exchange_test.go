package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// Helpers of the token exchange tests (identity exchange and entra-obo
// wired as serve wires them, against real or faithful authorization
// servers): exchange_oidc_test.go, exchange_entra_test.go and
// exchange_dev_test.go.

// exchangeGateway is a wired gateway serving routes on loopback.
type exchangeGateway struct {
	// public is the gateway's public URL; each route's resource is public
	// + its path.
	public string
	// audit is the audit_log file.
	audit string
}

// resource is the resource identifier (and MCP URL) of the route at path.
func (g exchangeGateway) resource(path string) string { return gateway.ResourceURL(g.public, path) }

// startExchangeGateway wires cfg as serve does, after setting its listen
// address, public URL and audit log and applying defaults, with getenv
// answering from env only (the variables the routes' *_env keys name), and
// serves it until the test ends. configure fills in the rest of cfg knowing
// the public URL (routes' resources are public + path).
func startExchangeGateway(t *testing.T, env map[string]string, configure func(public string) *config.Config) exchangeGateway {
	t.Helper()
	ln, public := listenLocal(t)
	cfg := configure(public)
	cfg.Listen, cfg.PublicURL, cfg.LogLevel = ln.Addr().String(), public, "error"
	cfg.AuditLog = filepath.Join(t.TempDir(), "audit.log")
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	a, err := wire(cfg, slog.New(slog.DiscardHandler), func(name string) string { return env[name] })
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	serveAppOn(t, a, ln)
	return exchangeGateway{public: public, audit: cfg.AuditLog}
}

// connectMCP opens a go-sdk client session to url sending token as its
// Bearer credential (no standalone SSE stream: every request is the
// client's own). The session closes when the test ends.
func connectMCP(t *testing.T, url, token string) (*mcp.ClientSession, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "exchange-test", Version: "1"}, nil)
	cs, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: url, DisableStandaloneSSE: true,
		HTTPClient: &http.Client{Transport: tokenTransport{token: token, base: http.DefaultTransport}}}, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs, nil
}

// mustConnectMCP is connectMCP failing t on error.
func mustConnectMCP(t *testing.T, url, token string) *mcp.ClientSession {
	t.Helper()
	cs, err := connectMCP(t, url, token)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	return cs
}

// callEcho calls the recording upstream's echo tool with message and
// checks that it comes back.
func callEcho(t *testing.T, cs *mcp.ClientSession, message string) {
	t.Helper()
	if err := tryEcho(t, cs, message); err != nil {
		t.Fatal(err)
	}
}

// tryEcho is callEcho returning the failure (for other goroutines).
func tryEcho(t *testing.T, cs *mcp.ClientSession, message string) error {
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": message}})
	if err != nil {
		return err
	}
	if res.IsError || len(res.Content) != 1 {
		return &echoError{res: res}
	}
	if txt, ok := res.Content[0].(*mcp.TextContent); !ok || txt.Text != message {
		return &echoError{res: res}
	}
	return nil
}

type echoError struct{ res *mcp.CallToolResult }

func (e *echoError) Error() string {
	b, _ := json.Marshal(e.res)
	return "echo returned " + string(b)
}

// rawInitialize posts an initialize request to url with token, as a
// client's first request, and returns the status and body: what a client
// sees when the gateway refuses before anything reaches the upstream.
func rawInitialize(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b
}

// checkBadGateway checks a refused exchange's answer: HTTP 502 with a
// JSON-RPC error for request id 1.
func checkBadGateway(t *testing.T, status int, body []byte) {
	t.Helper()
	var msg struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &msg); err != nil || status != http.StatusBadGateway ||
		msg.JSONRPC != "2.0" || string(msg.ID) != "1" || msg.Error == nil || msg.Error.Message == "" || msg.Result != nil {
		t.Fatalf("refused exchange answered %d %s; want 502 with a JSON-RPC error for id 1", status, body)
	}
}

// auditLines returns the audit file's lines, decoded.
func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// waitAudit waits until the audit file holds a line on route whose reason
// is reason (the line is written as the request ends, which may be just
// after the client has its answer) and returns it.
func waitAudit(t *testing.T, path, route, reason string) map[string]any {
	t.Helper()
	var found map[string]any
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
		for _, l := range auditLines(t, path) {
			if l["route"] == route && l["reason"] == reason {
				found = l
				return true
			}
		}
		return false
	}, "an audit line on "+route+" with reason "+reason)
	return found
}

// checkUpstreamCredential checks what one upstream request carried: a
// Bearer token other than the client's, no MCP-Gateway-* header, and the
// client's token in no header at all. It returns the Bearer token.
func checkUpstreamCredential(t *testing.T, r testenv.RecordedRequest, clientToken string) string {
	t.Helper()
	got := r.Bearer()
	if got == "" {
		t.Fatalf("upstream %s %s had no Bearer token: Authorization %q", r.Method, r.RPCMethod(), r.Header.Get("Authorization"))
	}
	if got == clientToken {
		t.Fatalf("upstream %s %s received the client's own token", r.Method, r.RPCMethod())
	}
	for name, vs := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "mcp-gateway-") {
			t.Errorf("upstream %s %s received identity header %s", r.Method, r.RPCMethod(), name)
		}
		for _, v := range vs {
			if strings.Contains(v, clientToken) {
				t.Errorf("upstream %s %s received the client's token in header %s", r.Method, r.RPCMethod(), name)
			}
		}
	}
	if bytes.Contains(r.Body, []byte(clientToken)) {
		t.Errorf("upstream %s %s received the client's token in its body", r.Method, r.RPCMethod())
	}
	return got
}

// countEcho counts the tools/call requests of echo among reqs.
func countEcho(reqs []testenv.RecordedRequest) int {
	n := 0
	for _, r := range reqs {
		if r.EchoMessage() != "" {
			n++
		}
	}
	return n
}
