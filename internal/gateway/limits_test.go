package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/httpproxy"
)

// subjectTokens is a verifier for limit tests: the token names the subject
// ("Bearer alice" is alice of https://idp.test), and "bad" is refused.
// It counts the tokens it was asked about.
type subjectTokens struct{ calls atomic.Int64 }

const limitsIssuer = "https://idp.test"

func (v *subjectTokens) Verify(_ context.Context, raw string) (*authn.Principal, error) {
	v.calls.Add(1)
	if raw == "bad" {
		return nil, errors.New("bad token")
	}
	return &authn.Principal{Subject: raw, Issuer: limitsIssuer, Expiry: time.Now().Add(time.Hour)}, nil
}

// limitsEnv is a gateway with two routes (/mcp and /other, sharing h)
// behind the subjectTokens verifier, recording its events.
type limitsEnv struct {
	url     string
	v       *subjectTokens
	rec     *observetest.Recorder
	reached atomic.Int64
}

func newLimitsEnv(t *testing.T, o gateway.Options, maxStreams int, h http.Handler) *limitsEnv {
	t.Helper()
	e := &limitsEnv{v: &subjectTokens{}, rec: observetest.New()}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.reached.Add(1); h.ServeHTTP(w, r) })
	srv := httptest.NewUnstartedServer(nil)
	o.PublicURL = "http://" + srv.Listener.Addr().String()
	o.Observers = append(o.Observers, e.rec)
	for _, p := range []string{"/mcp", "/other"} {
		o.Routes = append(o.Routes, gateway.Route{Path: p, Verifier: e.v, Handler: counted, MaxStreamsPerPrincipal: maxStreams})
	}
	g, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = g.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	e.url = o.PublicURL
	return e
}

// limitReply is a response with its body read.
type limitReply struct {
	status     int
	retryAfter string
	body       string
}

// rpcError decodes the JSON-RPC error of the reply.
func (a limitReply) rpcError(t *testing.T) (id string, code int, msg string) {
	t.Helper()
	var r struct {
		ID    json.RawMessage `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(a.body), &r); err != nil {
		t.Fatalf("not a JSON-RPC error: %q: %v", a.body, err)
	}
	return string(r.ID), r.Error.Code, r.Error.Message
}

// call POSTs ping to path with token and extra headers.
func (e *limitsEnv) call(t *testing.T, path, token string, hdr map[string]string) limitReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(ping))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: testkit.DefaultTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return limitReply{resp.StatusCode, resp.Header.Get("Retry-After"), string(b)}
}

// want429 checks a limit's refusal: 429, Retry-After, a -32000 JSON-RPC
// error without id naming the limit.
func want429(t *testing.T, a limitReply, retryAfter, msg string) {
	t.Helper()
	if a.status != http.StatusTooManyRequests || a.retryAfter != retryAfter {
		t.Fatalf("got %d Retry-After %q, want 429 Retry-After %q: %s", a.status, a.retryAfter, retryAfter, a.body)
	}
	if id, code, m := a.rpcError(t); id != "null" || code != mcpwire.CodeServerError || m != msg {
		t.Fatalf("429 body %s", a.body)
	}
}

// denials counts the recorded refusals for reason, by subject (or by
// remote IP when the subject is empty).
func (e *limitsEnv) denials(t *testing.T, n int, reason observe.Reason) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	out := map[string]int{}
	for _, ev := range e.rec.Wait(ctx, n) {
		if ev.Decision == observe.DecisionDeny && ev.Reason == reason {
			who := ev.Subject
			if who == "" {
				who = ev.RemoteIP
			}
			out[who]++
		}
	}
	return out
}

// TestRateLimitPerPrincipal: a principal flooding requests gets 429 with
// Retry-After (the bucket's refill time) once its burst is spent, on every
// route (one bucket per principal), without reaching the handler; another
// principal's requests in the same moment all pass; the flooder is let in
// again once the clock has moved by Retry-After.
func TestRateLimitPerPrincipal(t *testing.T) {
	c := testkit.NewClock(time.Unix(1_000_000, 0))
	e := newLimitsEnv(t, gateway.Options{Now: c.Now, After: c.After,
		RateLimitPerIP:        gateway.RateLimit{Rate: -1},
		RateLimitPerPrincipal: gateway.RateLimit{Rate: 0.5, Burst: 5}}, 0, nil)
	const flood = 20
	for i := range flood {
		a := e.call(t, "/mcp", "alice", nil)
		if i < 5 {
			if a.status != http.StatusOK {
				t.Fatalf("alice's request %d (within the burst): %d %s", i, a.status, a.body)
			}
		} else {
			want429(t, a, "2", "rate limit exceeded for this principal")
		}
		if i%4 == 0 {
			if b := e.call(t, "/mcp", "bob", nil); b.status != http.StatusOK {
				t.Fatalf("bob beside alice's flood: %d %s", b.status, b.body)
			}
		}
	}
	want429(t, e.call(t, "/other", "alice", nil), "2", "rate limit exceeded for this principal")
	if n := e.reached.Load(); n != 5+5 {
		t.Fatalf("handler reached %d times, want 10 (alice's burst and bob's calls)", n)
	}
	if got := e.denials(t, flood+5+1, observe.ReasonRate); got["alice"] != flood-5+1 || got["bob"] != 0 {
		t.Fatalf("rate refusals recorded: %v", got)
	}

	c.Advance(2 * time.Second)
	if a := e.call(t, "/other", "alice", nil); a.status != http.StatusOK {
		t.Fatalf("alice after Retry-After: %d %s", a.status, a.body)
	}
	want429(t, e.call(t, "/mcp", "alice", nil), "2", "rate limit exceeded for this principal")
}

// TestRateLimitPerIP: one client address flooding invalid tokens gets 429
// once its burst is spent, before its token is even verified; other
// addresses, behind the same trusted proxy, are unaffected. Addresses it
// prepends to X-Forwarded-For do not change its key, and neither does a
// whole X-Forwarded-For sent by an untrusted peer.
func TestRateLimitPerIP(t *testing.T) {
	const attacker = "203.0.113.7"
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	c := testkit.NewClock(time.Unix(1_000_000, 0))
	perIP := gateway.RateLimit{Rate: 1, Burst: 3}
	e := newLimitsEnv(t, gateway.Options{Now: c.Now, After: c.After, ClientIP: gateway.ClientIP([]netip.Prefix{loopback}),
		RateLimitPerIP: perIP, RateLimitPerPrincipal: gateway.RateLimit{Rate: -1}}, 0, nil)

	for i := range 12 {
		// The proxy (the test client, on loopback) appended the address it
		// saw; the attacker wrote the rest.
		xff := map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d, %s", i, attacker)}
		a := e.call(t, "/mcp", "bad", xff)
		if i < 3 {
			if a.status != http.StatusUnauthorized {
				t.Fatalf("bad token %d within the burst: %d %s", i, a.status, a.body)
			}
		} else {
			want429(t, a, "1", "rate limit exceeded for this client address")
		}
		honest := map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i/3)}
		if h := e.call(t, "/mcp", "carol", honest); h.status != http.StatusOK {
			t.Fatalf("an honest address beside the flood: %d %s", h.status, h.body)
		}
	}
	if n := e.v.calls.Load(); n != 3+12 {
		t.Fatalf("verifier asked %d times, want 15: refused requests must not cost a verification", n)
	}
	if got := e.denials(t, 24, observe.ReasonRate); got[attacker] != 9 || len(got) != 1 {
		t.Fatalf("rate refusals recorded by address: %v", got)
	}

	// A peer that is not a trusted proxy gets no say through the header.
	direct := newLimitsEnv(t, gateway.Options{Now: c.Now, After: c.After,
		ClientIP:       gateway.ClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}),
		RateLimitPerIP: perIP, RateLimitPerPrincipal: gateway.RateLimit{Rate: -1}}, 0, nil)
	for i := range 6 {
		a := direct.call(t, "/mcp", "bad", map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", i)})
		if i >= 3 {
			want429(t, a, "1", "rate limit exceeded for this client address")
		}
	}
	if got := direct.denials(t, 6, observe.ReasonRate); got["127.0.0.1"] != 3 {
		t.Fatalf("spoofed X-Forwarded-For escaped the limit: %v", got)
	}
}

// TestParallelCallsOfOneAgentWithDefaults: with the default limits one
// agent's 16 tool calls in flight at once, beside its session's GET
// stream, all succeed (the issue: a cap of 16 answered some with 429).
// The upstream's tool answers only once all 16 are in, so they really
// are concurrent.
func TestParallelCallsOfOneAgentWithDefaults(t *testing.T) {
	const parallel = 16
	h, calls := barrierRoute(t, parallel)
	e := newLimitsEnv(t, gateway.Options{}, 0, h)
	cs := connectKeepAlive(t, e.url+"/mcp", "2025-06-18", &teeTransport{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	for i := range parallel {
		wg.Go(func() {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "barrier"})
			if err == nil && res.IsError {
				err = fmt.Errorf("call %d: tool error %+v", i, res.Content)
			}
			if err != nil {
				cancel() // the others wait for all 16 at the barrier
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := calls.Load(); n != parallel {
		t.Fatalf("upstream saw %d calls, want %d", n, parallel)
	}
}

// barrierRoute is an HTTP proxy route whose upstream's "barrier" tool
// answers once n calls are in, and the count of calls.
func barrierRoute(t *testing.T, n int) (http.Handler, *atomic.Int64) {
	t.Helper()
	calls := new(atomic.Int64)
	all := make(chan struct{})
	srv := mcp.NewServer(&mcp.Implementation{Name: "upstream", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "barrier"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if calls.Add(1) == int64(n) {
			close(all)
		}
		select {
		case <-all:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "in"}}}, nil, nil
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{DisableLocalhostProtection: true}))
	t.Cleanup(up.Close)
	p, err := httpproxy.New(httpproxy.Options{URL: up.URL, RouteID: "/mcp", SessionKey: []byte(strings.Repeat("k", httpproxy.MinSessionKeyBytes))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, calls
}
