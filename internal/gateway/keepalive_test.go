package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/httpproxy"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/stdio"
)

const keepalive = 25 * time.Second

// keepAliveGateway serves h at /mcp behind a gateway with keep-alives on
// a fake clock; every token is accepted (subject "any").
func keepAliveGateway(t *testing.T, h http.Handler, c *testkit.Clock) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	g, err := gateway.New(gateway.Options{
		PublicURL:       public,
		Routes:          []gateway.Route{{Path: "/mcp", Verifier: acceptAll{}, Handler: h}},
		StreamKeepalive: keepalive, Now: c.Now, After: c.After,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = g.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return public + "/mcp"
}

// teeTransport records, per request method, the response bytes the MCP
// client has read, in the order it read them.
type teeTransport struct {
	mu   sync.Mutex
	read map[string]*bytes.Buffer
}

func (tt *teeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer any")
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.read == nil {
		tt.read = map[string]*bytes.Buffer{}
	}
	if tt.read[r.Method] == nil {
		tt.read[r.Method] = &bytes.Buffer{}
	}
	resp.Body = teeBody{ReadCloser: resp.Body, tt: tt, buf: tt.read[r.Method]}
	return resp, nil
}

// method is what the client read of the responses to method requests.
func (tt *teeTransport) method(m string) fmt.Stringer {
	return testkit.StringerFunc(func() string {
		tt.mu.Lock()
		defer tt.mu.Unlock()
		if b := tt.read[m]; b != nil {
			return b.String()
		}
		return ""
	})
}

type teeBody struct {
	io.ReadCloser
	tt  *teeTransport
	buf *bytes.Buffer
}

func (b teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.tt.mu.Lock()
	b.buf.Write(p[:n])
	b.tt.mu.Unlock()
	return n, err
}

func connectKeepAlive(t *testing.T, url, version string, tt *teeTransport, onProgress func()) *mcp.ClientSession {
	t.Helper()
	opts := &mcp.ClientOptions{}
	if onProgress != nil {
		opts.ProgressNotificationHandler = func(context.Context, *mcp.ProgressNotificationClientRequest) { onProgress() }
	}
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, opts).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1, HTTPClient: &http.Client{Transport: tt}},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// TestKeepAliveBuiltinGETStream: the built-in server's standalone GET
// stream (opened by the go-sdk client, idle by nature) receives a comment
// after stream_keepalive, the client reads past it, and the session keeps
// working.
func TestKeepAliveBuiltinGETStream(t *testing.T) {
	testkit.CheckGoroutines(t)
	c := testkit.NewClock(time.Unix(0, 0))
	url := keepAliveGateway(t, upstream.NewBuiltin(upstream.BuiltinOptions{Version: "test"}), c)
	tt := &teeTransport{}
	cs := connectKeepAlive(t, url, "2025-06-18", tt, nil)
	testkit.WaitContains(t, tt.method(http.MethodGet), ": ok\n\n", testkit.DefaultTimeout) // the SDK's own opening comment
	c.Advance(keepalive)
	testkit.WaitContains(t, tt.method(http.MethodGet), ": ok\n\n: keep-alive\n\n", testkit.DefaultTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"}); err != nil || res.IsError {
		t.Fatalf("whoami after the keep-alive: %v %+v", err, res)
	}
}

// TestKeepAlivePOSTStream: a tool call whose upstream sends a progress
// notification and then works for a while gets a comment on its POST
// stream, between the notification and the result, and the go-sdk client
// still reads the result from that stream. Upstreams: Streamable HTTP and
// legacy HTTP+SSE (through the bridge) via the HTTP proxy, and a stdio
// process.
func TestKeepAlivePOSTStream(t *testing.T) {
	for _, kind := range []string{httpproxy.TransportStreamable, httpproxy.TransportSSE, "stdio"} {
		t.Run(kind, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			c := testkit.NewClock(time.Unix(0, 0))
			h, release := slowRoute(t, kind)
			tt := &teeTransport{}
			progressed := make(chan struct{}, 1)
			cs := connectKeepAlive(t, keepAliveGateway(t, h, c), "2025-06-18", tt, func() { progressed <- struct{}{} })

			ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
			defer cancel()
			type result struct {
				res *mcp.CallToolResult
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Meta: mcp.Meta{"progressToken": "p1"}})
				done <- result{res, err}
			}()
			testkit.Recv(t, progressed, testkit.DefaultTimeout, "the progress notification")
			c.Advance(keepalive)
			testkit.WaitContains(t, tt.method(http.MethodPost), ": keep-alive\n\n", testkit.DefaultTimeout)
			release(ctx, cs)
			got := testkit.Recv(t, done, testkit.DefaultTimeout, "the tool result")
			if got.err != nil || got.res.IsError || got.res.Content[0].(*mcp.TextContent).Text != "done" {
				t.Fatalf("slow: %v %+v", got.err, got.res)
			}
			posts := tt.method(http.MethodPost).String()
			progress, comment, final := strings.Index(posts, "notifications/progress"), strings.Index(posts, ": keep-alive\n\n"), strings.Index(posts, `"done"`)
			if progress < 0 || progress >= comment || comment >= final {
				t.Fatalf("POST streams read: want progress, comment, result in order:\n%s", posts)
			}
		})
	}
}

// slowRoute is a route handler whose upstream serves the "slow" tool
// (slowTool), and the function that lets the tool answer.
func slowRoute(t *testing.T, kind string) (http.Handler, func(context.Context, *mcp.ClientSession)) {
	t.Helper()
	if kind == "stdio" {
		s, err := stdio.New(stdio.Options{Command: []string{os.Args[0]}, Env: map[string]string{stdioServerEnv: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s, func(ctx context.Context, cs *mcp.ClientSession) {
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "release"}); err != nil {
				t.Errorf("release: %v", err)
			}
		}
	}
	release := make(chan struct{})
	srv := mcp.NewServer(&mcp.Implementation{Name: "upstream", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "slow"}, slowTool(release))
	var up http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{DisableLocalhostProtection: true})
	if kind == httpproxy.TransportSSE {
		up = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.SSEOptions{DisableLocalhostProtection: true})
	}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	p, err := httpproxy.New(httpproxy.Options{URL: upSrv.URL, Transport: kind, RouteID: "/mcp",
		SessionKey: bytes.Repeat([]byte("k"), httpproxy.MinSessionKeyBytes)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, func(context.Context, *mcp.ClientSession) { close(release) }
}
