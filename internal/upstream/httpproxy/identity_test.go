package httpproxy

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// ctxInjector records, for each upstream request, whether the context it
// was given carries a deadline and the client request's values (the bearer
// token the front stored); with fail it refuses.
type ctxInjector struct {
	fail bool
	mu   sync.Mutex
	got  []ctxSeen
}

type ctxSeen struct{ deadline, request bool }

var _ identity.Injector = (*ctxInjector)(nil)

func (c *ctxInjector) Apply(ctx context.Context, h http.Header, p *authn.Principal) error {
	_, deadline := ctx.Deadline()
	c.mu.Lock()
	c.got = append(c.got, ctxSeen{deadline: deadline, request: bearer.TokenFromContext(ctx) != nil})
	c.mu.Unlock()
	if c.fail {
		return errors.New("no identity today")
	}
	return headerInjector{}.Apply(ctx, h, p)
}

func (c *ctxInjector) seen() []ctxSeen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ctxSeen(nil), c.got...)
}

// TestIdentityContext: the injector gets the client request's context for
// the requests a client request causes, and the bridge session's context
// for its long-lived upstream stream, always with a deadline (Timeout); an
// injector error fails the request with 500 and a JSON-RPC error.
func TestIdentityContext(t *testing.T) {
	t.Run("streamable", func(t *testing.T) {
		checkLeaks(t)
		up, _ := scripted(t)
		inj := &ctxInjector{}
		gw := front(t, newProxy(t, Options{URL: up.URL, Identity: inj}))
		if resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil); resp.StatusCode != 200 {
			t.Fatalf("initialize: %d %s", resp.StatusCode, body)
		}
		if got := inj.seen(); len(got) != 1 || got[0] != (ctxSeen{deadline: true, request: true}) {
			t.Errorf("injector saw %+v", got)
		}
	})
	t.Run("bridge", func(t *testing.T) {
		checkLeaks(t)
		up := sseUpstream(t, mcpServer(nil), nil)
		inj := &ctxInjector{}
		gw := front(t, newProxy(t, Options{URL: up.URL, Transport: TransportSSE, Identity: inj}))
		if resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil); resp.StatusCode != 200 {
			t.Fatalf("initialize: %d %s", resp.StatusCode, body)
		}
		// The stream (session context), then the initialize POST (request).
		want := []ctxSeen{{deadline: true, request: false}, {deadline: true, request: true}}
		if got := inj.seen(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("injector saw %+v, want %+v", got, want)
		}
	})
	for _, transport := range []string{TransportStreamable, TransportSSE} {
		t.Run("failing/"+transport, func(t *testing.T) {
			checkLeaks(t)
			up := sseUpstream(t, mcpServer(nil), nil)
			gw := front(t, newProxy(t, Options{URL: up.URL, Transport: transport, Identity: &ctxInjector{fail: true}}))
			resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil)
			if _, _, msg := rpcErr(t, body); resp.StatusCode != http.StatusInternalServerError || msg != errNoIdentity.msg {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
		})
	}
}
