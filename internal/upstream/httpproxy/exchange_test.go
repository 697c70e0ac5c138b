package httpproxy

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
)

// refusingExchange is an injector whose token exchange the authorization
// server refuses, as identity.Exchange reports it.
type refusingExchange struct{}

func (refusingExchange) Apply(context.Context, http.Header, *authn.Principal) error {
	return fmt.Errorf("%w: %w", identity.ErrExchange,
		&tokenexchange.Error{Status: 400, Code: "invalid_grant", Suberror: "consent_required"})
}

// TestExchangeRefused: a failed token exchange answers 502 with a JSON-RPC
// error, records reason token_exchange with the authorization server's
// answer as detail, and sends nothing upstream; any other identity failure
// stays a 500.
func TestExchangeRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		inj    identity.Injector
		status int
		msg    string
		reason observe.Reason
		detail string
	}{
		{"exchange refused", refusingExchange{}, http.StatusBadGateway, errTokenExchange.msg, observe.ReasonTokenExchange, "invalid_grant (consent_required)"},
		{"other identity failure", &ctxInjector{fail: true}, http.StatusInternalServerError, errNoIdentity.msg, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkLeaks(t)
			rec := &bodyRecorder{}
			events := observetest.New()
			gw := observedGateway(t, observe.NewHub(events), newProxy(t, Options{URL: jsonUpstream(t, 200, rec).URL, Identity: c.inj}))
			resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", tracedCall, nil)
			if _, code, msg := rpcErr(t, body); resp.StatusCode != c.status || msg != c.msg || code == 0 {
				t.Errorf("answer %d %s; want %d %q", resp.StatusCode, body, c.status, c.msg)
			}
			if got := rec.all(); len(got) != 0 {
				t.Errorf("the upstream received %d requests", len(got))
			}
			ev := events.Wait(t.Context(), 1)
			if len(ev) != 1 {
				t.Fatal("no event")
			}
			if ev[0].Reason != c.reason || !strings.Contains(ev[0].Detail, c.detail) {
				t.Errorf("event reason %q detail %q; want %q containing %q", ev[0].Reason, ev[0].Detail, c.reason, c.detail)
			}
		})
	}
}
