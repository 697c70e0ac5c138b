package observe_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
)

// headerSeen records the Authorization header a phase observer reads from
// the record when the request phase starts.
type headerSeen struct {
	*observetest.Recorder
	auth string
}

func (h *headerSeen) StartPhase(ctx context.Context, p observe.Phase, rec *observe.Request) (context.Context, func(error)) {
	if p == observe.PhaseRequest {
		h.auth = rec.Header.Get("Authorization")
	}
	return ctx, func(error) {}
}

// A record outlives its request when a context holding it does (the
// go-sdk keeps the initialize request's context for the session's life):
// once finished it must hold neither the request's header, with its
// bearer token, nor the operations, while its event stays readable.
func TestFinishDropsTheRequestsHeader(t *testing.T) {
	obs := &headerSeen{Recorder: observetest.New()}
	hub := observe.NewHub(obs)
	r := httptest.NewRequest("POST", "/mcp", nil)
	r.Header.Set("Authorization", "Bearer secret-token")
	ctx, rec := hub.Start(context.Background(), "/mcp", r, "192.0.2.1")
	observe.SetOperations(ctx, []observe.Operation{{Method: "initialize"}})
	observe.SetPrincipal(ctx, "alice", "client", "https://idp.test")

	if obs.auth != "Bearer secret-token" {
		t.Fatalf("a phase observer read Authorization %q at the start, want the request's", obs.auth)
	}
	rec.Finish(ctx, 200)

	if rec.Header != nil {
		t.Errorf("Header after Finish = %v, want nil", rec.Header)
	}
	if got := observe.From(ctx); got != rec {
		t.Fatalf("From = %p, want the record %p", got, rec)
	}
	if e := rec.Snapshot(); e.Subject != "alice" || e.Route != "/mcp" || e.RemoteIP != "192.0.2.1" {
		t.Errorf("Snapshot after Finish = %+v, want the recorded event", e)
	}
	events := obs.Events()
	if len(events) != 1 || events[0].Method != "initialize" || events[0].Status != 200 {
		t.Errorf("events = %+v, want the one initialize answered 200", events)
	}
	// A second Finish still does nothing.
	rec.Finish(ctx, 500)
	if n := len(obs.Events()); n != 1 {
		t.Errorf("%d events after a second Finish, want 1", n)
	}
}
