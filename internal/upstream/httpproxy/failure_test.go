package httpproxy

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const pingBody = `{"jsonrpc":"2.0","id":"req-9","method":"ping"}`

// TestUpstreamFailures: every upstream failure becomes a JSON-RPC error
// with the request's id and a status the client can act on, never the
// upstream's challenge, cookies or internals.
func TestUpstreamFailures(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: downURL
		opts    Options
		status  int
		golden  string
	}{
		{"upstream 401", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://upstream/.well-known/x"`)
			w.WriteHeader(http.StatusUnauthorized)
		}, Options{}, http.StatusBadGateway, "upstream_refused.golden"},
		{"upstream 403", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
			w.WriteHeader(http.StatusForbidden)
		}, Options{}, http.StatusBadGateway, "upstream_refused.golden"},
		{"upstream redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.test/", http.StatusTemporaryRedirect)
		}, Options{}, http.StatusBadGateway, "upstream_refused.golden"},
		{"upstream down", nil, Options{}, http.StatusBadGateway, "upstream_down.golden"},
		{"slow upstream", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // net/http notices a closed connection only after the body
			<-r.Context().Done()               // until the proxy gives up (or cleanup cuts the connection)
		}, Options{Timeout: 100 * time.Millisecond}, http.StatusGatewayTimeout, "upstream_timeout.golden"},
		{"bad upstream session id", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Mcp-Session-Id", "has space")
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":"req-9","result":{}}`)
		}, Options{}, http.StatusBadGateway, "upstream_down.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			url := downURL
			if tt.handler != nil {
				up := httptest.NewServer(tt.handler)
				t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
				url = up.URL
			}
			tt.opts.URL = url
			gw := front(t, newProxy(t, tt.opts))
			resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", pingBody, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			for _, k := range []string{"WWW-Authenticate", "Location", "Mcp-Session-Id"} {
				if v := resp.Header.Get(k); v != "" {
					t.Errorf("%s reached the client: %q", k, v)
				}
			}
			golden(t, tt.golden, body)
		})
	}
}

// TestRequestLimits: method (405), a request without principal or a POST
// without a parsed body (500, fail closed), and requests after Close (503).
// Requests in flight per principal are capped by the gateway in front
// (internal/gateway TestStreamCap...), not here.
func TestRequestLimits(t *testing.T) {
	checkLeaks(t)
	up := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(up.Close)
	p := newProxy(t, Options{URL: up.URL})
	gw := front(t, p)

	if resp, _ := rawDo(t, http.MethodPut, gw.URL, "alice", "", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
	for name, ctx := range map[string]context.Context{
		"no principal":   context.Background(),
		"no parsed body": bearer.WithToken(context.Background(), principal("alice")),
	} {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(pingBody)).WithContext(ctx))
		if _, code, _ := rpcErr(t, w.Body.String()); w.Code != http.StatusInternalServerError || code != mcpwire.CodeInternalError {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	_ = p.Close()
	_ = p.Close()
	if resp, _ := rawDo(t, http.MethodPost, gw.URL, "alice", pingBody, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Close: %d", resp.StatusCode)
	}
}

// killer is an upstream that sends SSE events, then drops the connection
// (hijack and close) without ending the response.
func killer(t *testing.T, events string) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, events)
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(up.Close)
	return up
}

// TestUpstreamKilledMidStream: the client's stream ends cleanly after the
// last complete event; a partial event is never written.
func TestUpstreamKilledMidStream(t *testing.T) {
	const complete = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n"
	tests := []struct{ name, sent string }{
		{"between events", complete},
		{"inside an event", complete + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"req-9\",\"res"},
		{"before the blank line", complete + "event: message\ndata: {}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			up := killer(t, tt.sent)
			gw := front(t, newProxy(t, Options{URL: up.URL}))
			resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", pingBody, nil)
			if resp.StatusCode != 200 || body != complete {
				t.Errorf("status %d body %q, want %q", resp.StatusCode, body, complete)
			}
		})
	}
}

// TestClientDisconnect: a client that goes away cancels the upstream
// request, for a request waiting on headers and for a running stream.
func TestClientDisconnect(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		t.Run(map[bool]string{false: "before headers", true: "mid-stream"}[streaming], func(t *testing.T) {
			checkLeaks(t)
			entered, cancelled := make(chan struct{}), make(chan struct{})
			var once sync.Once
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if streaming {
					w.Header().Set("Content-Type", "text/event-stream")
					w.WriteHeader(http.StatusOK)
					_, _ = io.WriteString(w, "event: message\ndata: {}\n\n")
					w.(http.Flusher).Flush()
				}
				once.Do(func() { close(entered) })
				<-r.Context().Done() // the proxy cancels it, or cleanup cuts the connection
				close(cancelled)
			}))
			t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
			gw := front(t, newProxy(t, Options{URL: up.URL}))
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel) // the client goroutine ends even if the test fails early
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gw.URL, strings.NewReader(pingBody))
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			errc, streamed := make(chan error, 1), make(chan struct{})
			go func() {
				resp, err := tr.RoundTrip(req)
				if err == nil {
					_, err = bufio.NewReader(resp.Body).ReadString('\n')
					close(streamed)
					<-ctx.Done()
					resp.Body.Close()
				}
				errc <- err
			}()
			testkit.WaitDone(t, entered, testkit.DefaultTimeout, "the upstream to receive the request")
			if streaming {
				// The client has read the first event: the proxy is copying the stream.
				testkit.WaitDone(t, streamed, testkit.DefaultTimeout, "the client to read the first event")
			}
			cancel()
			testkit.WaitDone(t, cancelled, testkit.DefaultTimeout, "the upstream request to be cancelled")
			testkit.Recv(t, errc, testkit.DefaultTimeout, "the client to return")
		})
	}
}

// TestCloseEndsStreams: Close ends open streams.
func TestCloseEndsStreams(t *testing.T) {
	checkLeaks(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(up.Close)
	p := newProxy(t, Options{URL: up.URL})
	gw := front(t, p)
	resp, err := http.Get(gw.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); resp.Body.Close(); close(done) }()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitDone(t, done, testkit.DefaultTimeout, "the stream to end after Close")
	http.DefaultClient.CloseIdleConnections()
}
