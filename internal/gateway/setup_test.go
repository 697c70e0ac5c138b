package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// ping is a valid JSON-RPC request body for routes whose handler is the
// counting stand-in.
const ping = `{"jsonrpc":"2.0","id":1,"method":"ping"}`

// seen is what the stand-in handler got: the call (principal and parsed
// body) and the bytes r.Body replayed.
type seen struct {
	call *call.Call
	body string
}

// env is a gateway under test in front of an httptest issuer.
type env struct {
	iss      *authntest.Issuer
	keys     *authn.KeySet
	srv      *httptest.Server
	public   string // gateway base URL
	resource string // the /mcp route's resource identifier
	reached  *atomic.Int64
	last     atomic.Pointer[seen]
}

type envOpts struct {
	builtin  bool // serve the real built-in MCP server instead of a counting handler
	required []string
	noStart  bool // do not load keys before serving
	origins  []string
	// handler, when set, serves the route instead of the counting stand-in.
	handler   http.Handler
	observers []observe.Observer
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	e := &env{iss: authntest.NewIssuer(t), reached: new(atomic.Int64)}
	e.srv = httptest.NewUnstartedServer(nil)
	e.public = "http://" + e.srv.Listener.Addr().String()
	e.resource = e.public + "/mcp"
	keys, err := authn.NewKeySet(authn.KeySetOptions{Issuer: e.iss.URL, MinRefreshInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.keys = keys
	profile, _ := idp.Lookup("generic")
	v, err := authn.NewVerifier(keys, authn.Policy{Issuer: e.iss.URL, Audiences: []string{e.resource}, Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.reached.Add(1)
		c := call.From(r.Context())
		if c.Principal == nil {
			t.Error("handler reached without a principal")
			return
		}
		b, _ := io.ReadAll(r.Body)
		e.last.Store(&seen{call: c, body: string(b)})
		_, _ = io.WriteString(w, "reached "+c.Principal.Subject)
	})
	if o.builtin {
		h = upstream.NewBuiltin(upstream.BuiltinOptions{Version: "test"})
	}
	if o.handler != nil {
		h = o.handler
	}
	if o.required == nil {
		o.required = []string{"mcp:read"}
	}
	g, err := gateway.New(gateway.Options{
		PublicURL:            e.public,
		AuthorizationServers: []string{e.iss.URL},
		ResourceName:         "Test Gateway",
		AllowedOrigins:       o.origins,
		MaxBodyBytes:         64 << 10,
		// These tests send many requests from one address and principal;
		// the rate limits have their own tests (limits_test.go).
		RateLimitPerIP:        gateway.RateLimit{Rate: -1},
		RateLimitPerPrincipal: gateway.RateLimit{Rate: -1},
		Ready:                 keys,
		Observers:             o.observers,
		Routes: []gateway.Route{{
			Path: "/mcp", Verifier: v, RequiredScopes: o.required,
			ScopesSupported: append(append([]string{}, o.required...), "mcp:write", "offline_access"), Handler: h,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = g.Handler()
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	if !o.noStart {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := keys.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// token mints a valid token for the route, with claim overrides.
func (e *env) token(over map[string]any) string {
	c := e.iss.Claims(e.resource)
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return e.iss.Mint(c)
}

func (e *env) post(t *testing.T, path, auth string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.public+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
