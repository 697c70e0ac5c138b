package httpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// Answers of session-only servers to a sessionless request, as sent by
// @modelcontextprotocol/server-everything 2026.8.31 (TypeScript SDK
// 1.32.2; captured from the running server), the Python SDK, and the go-sdk
// v1.8.0 with MCPGODEBUG=plaintextstatefulrejection=1.
const (
	tsNotInitialized = `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}`
	tsNoSessionID    = `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Mcp-Session-Id header is required"},"id":null}`
	tsNoValidSession = `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}`
	pyMissingSession = `{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Bad Request: Missing session ID"}}`
	goPlainRejection = "Bad Request: protocol version \"2026-07-28\" is only supported on stateless HTTP servers (set StreamableHTTPOptions.Stateless = true)\n"
	upstreamOwn32022 = `{"jsonrpc":"2.0","id":"req-9","error":{"code":-32022,"message":"not here","data":{"supported":["2025-06-18"],"requested":"2026-07-28"}}}`
)

const listBody = `{"jsonrpc":"2.0","id":"req-9","method":"tools/list"}`

// TestSessionsOnlyRefusal: a sessionless (2026-07-28) request that a
// session-only upstream refuses is answered with -32022 listing the
// session versions (testdata/sessions_only.golden); the upstream's own
// -32022, other errors, errors to 2025 requests and to requests with a
// session pass through untouched.
func TestSessionsOnlyRefusal(t *testing.T) {
	sessionless := map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		hdr         map[string]string
		translated  bool
	}{
		{"typescript not initialized", 400, "application/json", tsNotInitialized, sessionless, true},
		{"typescript session header required", 400, "application/json", tsNoSessionID, sessionless, true},
		{"typescript error without id", 400, "application/json", tsNoValidSession, sessionless, true},
		{"python missing session", 400, "application/json", pyMissingSession, sessionless, true},
		{"go-sdk plain text", 400, "text/plain; charset=utf-8", goPlainRejection, sessionless, true},
		{"server not initialized (LSP code)", 400, "application/json", `{"jsonrpc":"2.0","id":"req-9","error":{"code":-32002,"message":"Server not initialized"}}`, sessionless, true},
		{"session not found", 404, "text/plain; charset=utf-8", "session not found\n", sessionless, true},
		{"upstream's own -32022", 400, "application/json", upstreamOwn32022, sessionless, false},
		{"invalid params", 400, "application/json", `{"jsonrpc":"2.0","id":"req-9","error":{"code":-32602,"message":"missing _meta"}}`, sessionless, false},
		{"method not found", 404, "application/json", `{"jsonrpc":"2.0","id":"req-9","error":{"code":-32601,"message":"no such method"}}`, sessionless, false},
		{"server failure", 500, "text/plain", "boom\n", sessionless, false},
		{"2025 request", 400, "application/json", tsNotInitialized, map[string]string{"Mcp-Protocol-Version": "2025-11-25"}, false},
		{"no version header", 400, "application/json", tsNotInitialized, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(up.Close)
			gw := front(t, newProxy(t, Options{URL: up.URL}))
			resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", listBody, tt.hdr)
			if !tt.translated {
				if resp.StatusCode != tt.status || body != tt.body {
					t.Errorf("got %d %q, want the upstream's %d %q", resp.StatusCode, body, tt.status, tt.body)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			golden(t, "sessions_only.golden", body)
		})
	}
	t.Run("request with a session", func(t *testing.T) {
		checkLeaks(t)
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, tsNotInitialized)
		}))
		t.Cleanup(up.Close)
		p := newProxy(t, Options{URL: up.URL})
		sid, err := p.codec.wrap("upstream-sid", principal("alice"))
		if err != nil {
			t.Fatal(err)
		}
		_, body := rawDo(t, http.MethodPost, front(t, p).URL, "alice", listBody,
			map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Session-Id": sid})
		if body != tsNotInitialized {
			t.Errorf("body %q", body)
		}
	})
}

// sessionOnlyFront answers as server-everything (TypeScript SDK) does any
// POST without Mcp-Session-Id that is not initialize, and passes the rest
// to a stateful go-sdk server.
func sessionOnlyFront(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if r.Method == http.MethodPost && r.Header.Get("Mcp-Session-Id") == "" && !strings.Contains(string(raw), `"method":"initialize"`) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, tsNotInitialized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// discoverRecorder keeps the answers to server/discover a client received.
type discoverRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	got  []string
}

func (d *discoverRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.base.RoundTrip(r)
	if err != nil || r.Header.Get("Mcp-Method") != "server/discover" {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	d.mu.Lock()
	d.got = append(d.got, string(b))
	d.mu.Unlock()
	return resp, nil
}

// TestSessionlessClients: a go-sdk v1.8.0 client asking for 2026-07-28
// through the proxy gets it from a stateless go-sdk server; from a
// stateful go-sdk server (which answers server/discover itself, listing
// its 2025 versions) and from a session-only server that refuses
// sessionless requests as the TypeScript SDK does (the proxy's -32022
// listing mcpwire.SessionVersions), it falls back to initialize with
// 2025-11-25 and then works.
func TestSessionlessClients(t *testing.T) {
	tests := []struct {
		name      string
		upstream  func(t *testing.T) *httptest.Server
		want      string
		discover  string // in the client's answer to server/discover
		translate bool
	}{
		{"stateless go-sdk", func(t *testing.T) *httptest.Server { return streamableUpstream(t, mcpServer(nil), true, nil) },
			mcpwire.Version20260728, `"supportedVersions":[`, false},
		{"stateful go-sdk", func(t *testing.T) *httptest.Server { return streamableUpstream(t, mcpServer(nil), false, nil) },
			mcpwire.Version20251125, `"supportedVersions":["2025-11-25"`, false},
		{"session-only front", func(t *testing.T) *httptest.Server {
			srv := mcpServer(nil)
			up := httptest.NewServer(sessionOnlyFront(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
				&mcp.StreamableHTTPOptions{DisableLocalhostProtection: true})))
			t.Cleanup(up.Close)
			return up
		}, mcpwire.Version20251125, `"code":-32022`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			gw := front(t, newProxy(t, Options{URL: tt.upstream(t).URL}))
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			rec := &discoverRecorder{base: headerTransport{sub: "alice", base: tr}}
			c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
			defer cancel()
			cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: gw.URL, MaxRetries: -1, HTTPClient: &http.Client{Transport: rec}},
				&mcp.ClientSessionOptions{ProtocolVersion: mcpwire.Version20260728})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cs.Close() })
			if got := cs.InitializeResult().ProtocolVersion; got != tt.want {
				t.Errorf("negotiated %q, want %q", got, tt.want)
			}
			if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}}); err != nil || res.IsError {
				t.Fatalf("echo: %v %v", res, err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.got) == 0 || !strings.Contains(rec.got[0], tt.discover) {
				t.Fatalf("server/discover answered %q, want %s", rec.got, tt.discover)
			}
			if tt.translate {
				var e struct {
					Error struct {
						Data struct {
							Supported []string `json:"supported"`
						} `json:"data"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(rec.got[0]), &e); err != nil || !slices.Equal(e.Error.Data.Supported, mcpwire.SessionVersions) {
					t.Errorf("-32022 data %q: %v", rec.got[0], err)
				}
			}
		})
	}
}
