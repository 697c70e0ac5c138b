//go:build unix

package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/audit"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/metrics"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream"
)

// How the gateway's cost grows with routes and open sessions (issue 11),
// and what the observer seam and the keep-alive wrapper add per request.
// Requests are served in process (Handler().ServeHTTP) so that the
// numbers are the gateway's, not loopback TCP's; each runs the whole
// chain of a route (observe record, body deadline, Origin, rate limits
// (off), a real authn.Verifier with its token cached, stream cap, the one
// body read, keep-alive wrapper). heap-B is the live heap a configuration
// adds (runtime.GC and ReadMemStats around its setup).

const (
	benchPublic   = "http://gw.example"
	benchProtocol = "2025-06-18"
	benchToolCall = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench"}}}`
	benchInit     = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + benchProtocol + `","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`
	benchInited   = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
)

// deadlineRecorder is a ResponseRecorder that accepts read deadlines as a
// connection does, so the body deadline (call.ReadWithin) runs in process.
type deadlineRecorder struct{ *httptest.ResponseRecorder }

func (deadlineRecorder) SetReadDeadline(time.Time) error { return nil }

// benchIssuer is an issuer and a started key set over it.
func benchIssuer(b *testing.B) (*authntest.Issuer, *authn.KeySet) {
	iss := authntest.NewIssuer(b)
	keys, err := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	if err := keys.Start(ctx); err != nil {
		b.Fatal(err)
	}
	return iss, keys
}

// benchGW is a gateway served in process.
type benchGW struct {
	h   http.Handler
	iss *authntest.Issuer
}

// benchOpts shape newBenchGW's gateway.
type benchOpts struct {
	routes    int          // routes /mcp/r0 ... (1 when 0)
	handler   http.Handler // every route's handler; nil: jsonAnswer
	keepalive time.Duration
	observers []observe.Observer
}

// benchPath is route i's path.
func benchPath(i int) string { return fmt.Sprintf("/mcp/r%d", i) }

// jsonAnswer answers every POST with one JSON-RPC result, as a
// non-streaming upstream does.
var jsonAnswer = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"bench"}]}}`)
})

// sseAnswer answers every POST with a one-event stream, as a Streamable
// HTTP upstream answering one request does.
var sseAnswer = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"bench\"}]}}\n\n")
	http.NewResponseController(w).Flush()
})

// newBenchGW builds a gateway whose routes each have their own verifier
// over keys (as mcp-gateway wires them), rate limits off.
func newBenchGW(b *testing.B, iss *authntest.Issuer, keys *authn.KeySet, o benchOpts) *benchGW {
	if o.routes == 0 {
		o.routes = 1
	}
	if o.handler == nil {
		o.handler = jsonAnswer
	}
	profile, _ := idp.Lookup("generic")
	routes := make([]gateway.Route, o.routes)
	for i := range routes {
		path := benchPath(i)
		v, err := authn.NewVerifier(keys, authn.Policy{Issuer: iss.URL, Audiences: []string{benchPublic + path}, Profile: profile})
		if err != nil {
			b.Fatal(err)
		}
		routes[i] = gateway.Route{Path: path, Verifier: v, RequiredScopes: []string{"mcp:read"},
			ScopesSupported: []string{"mcp:read", "mcp:write"}, Handler: o.handler}
	}
	g, err := gateway.New(gateway.Options{
		PublicURL:             benchPublic,
		AuthorizationServers:  []string{iss.URL},
		ResourceName:          "Bench Gateway",
		MaxBodyBytes:          64 << 10,
		RateLimitPerIP:        gateway.RateLimit{Rate: -1},
		RateLimitPerPrincipal: gateway.RateLimit{Rate: -1},
		StreamKeepalive:       o.keepalive,
		Ready:                 keys,
		Observers:             o.observers,
		Routes:                routes,
	})
	if err != nil {
		b.Fatal(err)
	}
	return &benchGW{h: g.Handler(), iss: iss}
}

// token mints a token for route path.
func (g *benchGW) token(path string) string {
	return "Bearer " + g.iss.Mint(g.iss.Claims(benchPublic+path))
}

// post serves one POST in process and fails unless it got want.
func (g *benchGW) post(b *testing.B, path, auth, session, body string, want int) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, benchPublic+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	r.Header.Set("Authorization", auth)
	if session != "" {
		r.Header.Set("Mcp-Session-Id", session)
		r.Header.Set("MCP-Protocol-Version", benchProtocol)
	}
	w := httptest.NewRecorder()
	g.h.ServeHTTP(deadlineRecorder{w}, r)
	if w.Code != want {
		b.Fatalf("POST %s: %d, want %d: %s", path, w.Code, want, w.Body)
	}
	return w
}

// openSession initializes a built-in server session and returns its id.
func (g *benchGW) openSession(b *testing.B, path, auth string) string {
	sid := g.post(b, path, auth, "", benchInit, http.StatusOK).Header().Get("Mcp-Session-Id")
	if sid == "" {
		b.Fatal("initialize answered no Mcp-Session-Id")
	}
	g.post(b, path, auth, sid, benchInited, http.StatusAccepted)
	return sid
}

// closeSession ends a session (DELETE).
func (g *benchGW) closeSession(path, auth, sid string) {
	r := httptest.NewRequest(http.MethodDelete, benchPublic+path, nil)
	r.Header.Set("Authorization", auth)
	r.Header.Set("Mcp-Session-Id", sid)
	r.Header.Set("MCP-Protocol-Version", benchProtocol)
	g.h.ServeHTTP(deadlineRecorder{httptest.NewRecorder()}, r)
}

// BenchmarkScaleRoutes: a gateway with N routes (each its own verifier,
// metadata document and middleware chain, as mcp-gateway wires them).
// ns/op is a tools/call on the last route (JSON answer, token cached);
// heap-B is what building the N routes adds; build-ns/route what it took.
func BenchmarkScaleRoutes(b *testing.B) {
	iss, keys := benchIssuer(b)
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			before := testkit.HeapInUse()
			start := time.Now()
			g := newBenchGW(b, iss, keys, benchOpts{routes: n})
			build := time.Since(start)
			heap := testkit.HeapInUse() - before
			path := benchPath(n - 1)
			auth := g.token(path)
			b.ReportAllocs()
			cpu := testkit.ReportCPU(b)
			for b.Loop() {
				g.post(b, path, auth, "", benchToolCall, http.StatusOK)
			}
			cpu()
			b.ReportMetric(heap, "heap-B")
			b.ReportMetric(heap/float64(n), "heap-B/route")
			b.ReportMetric(float64(build.Nanoseconds())/float64(n), "build-ns/route")
		})
	}
}

// BenchmarkScaleSessions: N open sessions on the built-in server's route,
// all of one principal. ns/op is a tools/call (echo) on the last session
// opened (a one-event SSE answer); heap-B, stack-B and goroutines are
// what the N sessions hold.
func BenchmarkScaleSessions(b *testing.B) {
	iss, keys := benchIssuer(b)
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			g := newBenchGW(b, iss, keys, benchOpts{handler: upstream.NewBuiltin(upstream.BuiltinOptions{Version: "bench"})})
			path := benchPath(0)
			auth := g.token(path)
			g.closeSession(path, auth, g.openSession(b, path, auth)) // warm up
			before, stack, routines := testkit.HeapInUse(), testkit.StackInUse(), runtime.NumGoroutine()
			sids := make([]string, n)
			for i := range sids {
				sids[i] = g.openSession(b, path, auth)
			}
			heap, stack, goroutines := testkit.HeapInUse()-before, testkit.StackInUse()-stack, runtime.NumGoroutine()-routines
			defer func() {
				for _, sid := range sids {
					g.closeSession(path, auth, sid)
				}
			}()
			last := sids[n-1]
			b.ReportAllocs()
			cpu := testkit.ReportCPU(b)
			for b.Loop() {
				g.post(b, path, auth, last, benchToolCall, http.StatusOK)
			}
			cpu()
			b.ReportMetric(heap, "heap-B")
			b.ReportMetric(heap/float64(n), "heap-B/session")
			b.ReportMetric(stack/float64(n), "stack-B/session")
			b.ReportMetric(float64(goroutines)/float64(n), "goroutines/session")
		})
	}
}

// BenchmarkKeepAlive: the keep-alive wrapper (stream_keepalive 25s, the
// default, vs 0) on a tools/call whose answer is a one-event stream: from
// the built-in server (on an open session) and from a stand-in handler
// that writes one event (the wrapper's cost alone).
func BenchmarkKeepAlive(b *testing.B) {
	iss, keys := benchIssuer(b)
	for _, up := range []string{"builtin", "sse-stub"} {
		for _, every := range []time.Duration{0, 25 * time.Second} {
			state := map[bool]string{false: "off", true: "on"}[every > 0]
			b.Run(fmt.Sprintf("upstream=%s/keep_alive=%s", up, state), func(b *testing.B) {
				var h http.Handler = sseAnswer
				if up == "builtin" {
					h = upstream.NewBuiltin(upstream.BuiltinOptions{Version: "bench"})
				}
				g := newBenchGW(b, iss, keys, benchOpts{handler: h, keepalive: every})
				path := benchPath(0)
				auth := g.token(path)
				sid := ""
				if up == "builtin" {
					sid = g.openSession(b, path, auth)
					defer g.closeSession(path, auth, sid)
				}
				b.ReportAllocs()
				cpu := testkit.ReportCPU(b)
				for b.Loop() {
					w := g.post(b, path, auth, sid, benchToolCall, http.StatusOK)
					if ct := w.Header().Get("Content-Type"); ct != "text/event-stream" {
						b.Fatalf("answer is %q, not an event stream", ct)
					}
				}
				cpu()
			})
		}
	}
}

// BenchmarkObserveGateway: the observer seam inside the whole gateway: a
// tools/call (JSON answer) with no observers vs the Prometheus metrics
// and the audit log (JSON lines to io.Discard), as `serve` wires them.
func BenchmarkObserveGateway(b *testing.B) {
	iss, keys := benchIssuer(b)
	for _, sinks := range []string{"none", "metrics+audit"} {
		b.Run("sinks="+sinks, func(b *testing.B) {
			var obs []observe.Observer
			if sinks != "none" {
				obs = []observe.Observer{audit.New(io.Discard), metrics.New(metrics.Options{})}
			}
			g := newBenchGW(b, iss, keys, benchOpts{observers: obs})
			path := benchPath(0)
			auth := g.token(path)
			b.ReportAllocs()
			cpu := testkit.ReportCPU(b)
			for b.Loop() {
				g.post(b, path, auth, "", benchToolCall, http.StatusOK)
			}
			cpu()
		})
	}
}
