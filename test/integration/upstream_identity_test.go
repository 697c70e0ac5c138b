//go:build unix

package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// recorder is a real MCP server (the Go SDK's Streamable HTTP handler) that
// records every request's path and headers and counts handlers in flight.
// Its tools: hello (answers at once) and slow (sends one progress
// notification, then blocks until its request is cancelled or the test ends).
type recorder struct {
	srv      *httptest.Server
	stop     chan struct{}
	started  chan struct{} // one value per slow call that began
	mu       sync.Mutex
	reqs     []recordedRequest
	inflight int
}

type recordedRequest struct {
	Path   string
	Method string
	Header http.Header
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{stop: make(chan struct{}), started: make(chan struct{}, 16)}
	srv := mcp.NewServer(&mcp.Implementation{Name: "recording-upstream", Version: "0.0.0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "hello"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello from the upstream"}}}, nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "slow"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if tok := req.Params.GetProgressToken(); tok != nil {
			_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Total: 2})
		}
		rec.started <- struct{}{}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-rec.stop:
			return nil, nil, fmt.Errorf("test over")
		}
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recordedRequest{Path: r.URL.Path, Method: r.Method, Header: r.Header.Clone()})
		rec.inflight++
		rec.mu.Unlock()
		defer func() {
			rec.mu.Lock()
			rec.inflight--
			rec.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(rec.stop); rec.srv.Close() })
	return rec
}

// requests returns a copy of what was recorded for path.
func (rec *recorder) requests(path string) []recordedRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []recordedRequest
	for _, r := range rec.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// settled waits until no handler is in flight: the gateway must cancel
// the upstream requests of clients that went away.
func (rec *recorder) settled(t *testing.T) {
	t.Helper()
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.inflight == 0
	}, "no upstream request in flight (the gateway must cancel them)")
}

// upstreamKey is the HMAC key gateway and recording upstream share.
const upstreamKey = "0123456789abcdef0123456789abcdef-test-only"

// staticCredential is what an identity=static route sends upstream.
const staticCredential = "Bearer static-upstream-credential-for-tests"

// TestUpstreamIdentity proves what reaches an upstream: the SDK client sends
// a Cookie and a forged MCP-Gateway-Subject along with its token; the
// recording upstream never sees the token (no Authorization, no JWT in any
// header), the cookie or the forgery. With identity=hmac every request
// carries identity headers that pkg/mcpidentity's verifier accepts for the
// route's resource URL as audience, naming the real caller; with
// identity=static the only credential is the configured one; with none,
// nothing.
func TestUpstreamIdentity(t *testing.T) {
	rec := startRecorder(t)
	routes := []gatewayRoute{
		{Path: "/mcp/hmac", Upstream: rec.srv.URL + "/hmac", Identity: "hmac", IdentityKeyEnv: "UPSTREAM_KEY"},
		{Path: "/mcp/static", Upstream: rec.srv.URL + "/static", Identity: "static", StaticCredentialEnv: "UPSTREAM_CRED"},
		{Path: "/mcp/none", Upstream: rec.srv.URL + "/none"},
	}
	env := startUpstreamGateway(t, routes, []string{"UPSTREAM_KEY=" + upstreamKey, "UPSTREAM_CRED=" + staticCredential})
	for _, r := range routes {
		t.Run(strings.TrimPrefix(r.Path, "/mcp/"), func(t *testing.T) {
			o := runSDK(t, "--url", env.resource(r.Path), "--login-hint", "carol", "--tool", "hello",
				"--header", "Cookie: sid=client-cookie", "--header", "MCP-Gateway-Subject: mallory")
			if o.Result == nil || len(o.Result.Content) == 0 || o.Result.Content[0].Text != "hello from the upstream" {
				t.Fatalf("hello through the gateway: %+v", o.Result)
			}
			reqs := rec.requests(strings.TrimPrefix(r.Upstream, rec.srv.URL))
			if len(reqs) == 0 {
				t.Fatal("the upstream recorded no request")
			}
			verifier, err := mcpidentity.NewHMACVerifier([]byte(upstreamKey), env.resource(r.Path))
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range reqs {
				where := q.Method + " " + q.Path
				if c := q.Header.Values("Cookie"); len(c) > 0 {
					t.Errorf("%s: the client's cookie reached the upstream: %q", where, c)
				}
				for k, vs := range q.Header {
					for _, v := range vs {
						if strings.Contains(v, "eyJ") {
							t.Errorf("%s: header %s carries a JWT: %.40s...", where, k, v)
						}
					}
				}
				auth := q.Header.Get("Authorization")
				switch r.Identity {
				case "static":
					if auth != staticCredential {
						t.Errorf("%s: Authorization = %q, want the static credential", where, auth)
					}
				default:
					if auth != "" {
						t.Errorf("%s: Authorization %.20q... reached the upstream", where, auth)
					}
				}
				if r.Identity != "hmac" {
					for k := range q.Header {
						if strings.HasPrefix(strings.ToLower(k), mcpidentity.HeaderPrefix) {
							t.Errorf("%s: identity header %s on a route with identity %q", where, k, r.Identity)
						}
					}
					continue
				}
				id, err := verifier.Verify(q.Header)
				if err != nil {
					t.Errorf("%s: identity headers do not verify: %v", where, err)
					continue
				}
				if id.Subject != "carol" || id.Issuer != env.op.Issuer || !id.HasScope("mcp:tools") ||
					id.ClientID == "" || id.ClientID != o.TokenClaims["client_id"] {
					t.Errorf("%s: identity = %+v, want carol from %s with mcp:tools and client %v", where, id, env.op.Issuer, o.TokenClaims["client_id"])
				}
			}
		})
	}
}
