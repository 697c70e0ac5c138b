package httpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

const testIssuer = "https://issuer.test"

// checkLeaks fails t if goroutines outlive the test; register it first so
// it runs after every other cleanup.
func checkLeaks(t *testing.T) { testkit.CheckGoroutines(t) }

// principal returns a test principal for subject.
func principal(sub string) *authn.Principal {
	return &authn.Principal{Issuer: testIssuer, Subject: sub, ClientID: "client-" + sub,
		Scopes: []string{"mcp:tools"}, Expiry: time.Now().Add(time.Hour)}
}

// front serves h behind call.Read with the principal named by the
// X-Test-Sub header (default alice), as the gateway's bearer middleware and
// body reader would.
func front(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(frontHandler(h))
	t.Cleanup(srv.Close)
	return srv
}

// frontHandler is the handler front serves.
func frontHandler(h http.Handler) http.Handler {
	h = call.Read(0, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub := r.Header.Get("X-Test-Sub")
		if sub == "" {
			sub = "alice"
		}
		h.ServeHTTP(w, r.WithContext(bearer.WithToken(r.Context(), principal(sub))))
	})
}

// newProxy builds a Proxy closed at cleanup.
func newProxy(t *testing.T, o Options) *Proxy {
	t.Helper()
	if o.RouteID == "" {
		o.RouteID = "/mcp/test"
	}
	if o.SessionKey == nil {
		o.SessionKey = testKey
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// headerInjector is a test Injector naming the subject.
type headerInjector struct{}

func (headerInjector) Apply(_ context.Context, h http.Header, p *authn.Principal) error {
	h.Set("X-Gateway-Subject", p.Subject)
	return nil
}

// recorder keeps the headers of every request an upstream received.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method string
	query  string
	header http.Header
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{r.Method, r.URL.RawQuery, r.Header.Clone()})
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (rec *recorder) all() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.reqs...)
}

// gate lets a test hold the "progress" tool after its first notification.
type gate struct {
	release chan struct{}
	started chan struct{}
}

func newGate() *gate { return &gate{release: make(chan struct{}), started: make(chan struct{}, 8)} }

// mcpServer is a go-sdk server with echo and progress tools.
func mcpServer(g *gate) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "upstream", Version: "1"}, nil)
	type echoArgs struct {
		Message string `json:"message"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, a echoArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: a.Message}}}, nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "progress"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: req.Params.GetProgressToken(), Progress: 1, Total: 2, Message: "half"}); err != nil {
			return nil, nil, err
		}
		if g != nil {
			g.started <- struct{}{}
			select {
			case <-g.release:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
	})
	return srv
}

// streamableUpstream serves srv over Streamable HTTP.
func streamableUpstream(t testing.TB, srv *mcp.Server, stateless bool, rec *recorder) *httptest.Server {
	t.Helper()
	var h http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: stateless, DisableLocalhostProtection: true})
	if rec != nil {
		h = rec.wrap(h)
	}
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	return up
}

// headerTransport adds headers to every client request: a bearer token and
// a cookie that must never reach an upstream, and X-Test-Sub.
type headerTransport struct {
	sub  string
	base http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer client-secret-token")
	r.Header.Set("Cookie", "session=client-cookie")
	r.Header.Set("X-Test-Sub", h.sub)
	return h.base.RoundTrip(r)
}

// connect opens a go-sdk client session to url as sub.
func connect(t *testing.T, url, sub, version string, onProgress func(*mcp.ProgressNotificationClientRequest)) *mcp.ClientSession {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	opts := &mcp.ClientOptions{}
	if onProgress != nil {
		opts.ProgressNotificationHandler = func(_ context.Context, r *mcp.ProgressNotificationClientRequest) { onProgress(r) }
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: headerTransport{sub: sub, base: tr}}},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect %s: %v", version, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// rawDo sends body to url as sub with extra headers and returns the
// response with its body read (a hang fails after testkit.DefaultTimeout).
func rawDo(t *testing.T, method, url, sub string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("X-Test-Sub", sub)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: testkit.DefaultTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// rpcErr decodes a JSON-RPC error body.
func rpcErr(t *testing.T, body string) (id json.RawMessage, code int, msg string) {
	t.Helper()
	var r struct {
		ID    json.RawMessage `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(bytes.NewReader([]byte(body))).Decode(&r); err != nil {
		t.Fatalf("not a JSON-RPC error: %q: %v", body, err)
	}
	return r.ID, r.Error.Code, r.Error.Message
}

// waitFor waits for cond (a failure bound, not an expected duration).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, testkit.DefaultTimeout, cond, what)
}
