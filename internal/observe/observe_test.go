package observe_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// phases records phase starts and ends, in order.
type phases struct {
	*observetest.Recorder
	log []string
}

func (p *phases) StartPhase(ctx context.Context, ph observe.Phase, _ *observe.Request) (context.Context, func(error)) {
	p.log = append(p.log, "start "+string(ph))
	return ctx, func(err error) {
		s := "end " + string(ph)
		if err != nil {
			s += " " + err.Error()
		}
		p.log = append(p.log, s)
	}
}

func TestOneEventPerOperationWithTheRequestsFields(t *testing.T) {
	clock := testkit.NewClock(time.Unix(1_700_000_000, 0))
	rec := observetest.New()
	hub := observe.NewHub(rec, nil).WithClock(clock.Now)
	r := httptest.NewRequest("POST", "/mcp", nil)
	ctx, record := hub.Start(context.Background(), "/mcp", r, "192.0.2.1")
	observe.SetPrincipal(ctx, "alice", "app", "https://idp")
	observe.SetOperations(ctx, []observe.Operation{{Method: "tools/call", Name: "echo"}, {Method: "ping"}})
	observe.SetUpstream(ctx, 200, 3*time.Millisecond, "")
	clock.Advance(40 * time.Millisecond)
	record.Finish(ctx, 200)
	record.Finish(ctx, 500) // later calls do nothing

	got := rec.Events()
	if len(got) != 2 {
		t.Fatalf("events = %d, want 2 (one per operation)", len(got))
	}
	for i, want := range []observe.Operation{{Method: "tools/call", Name: "echo"}, {Method: "ping"}} {
		e := got[i]
		if e.Operation != want || e.Batch != 2 || e.RequestID != record.ID() || e.RequestID == "" ||
			e.Subject != "alice" || e.ClientID != "app" || e.Issuer != "https://idp" || e.RemoteIP != "192.0.2.1" ||
			e.Route != "/mcp" || e.HTTPMethod != "POST" || e.Status != 200 || e.Latency != 40*time.Millisecond ||
			e.Decision != observe.DecisionAllow || e.UpstreamStatus != 200 || e.UpstreamLatency != 3*time.Millisecond {
			t.Errorf("event %d = %+v", i, e)
		}
	}
}

func TestTheFirstDecisionWins(t *testing.T) {
	rec := observetest.New()
	hub := observe.NewHub(rec)
	ctx, record := hub.Start(context.Background(), "/mcp", httptest.NewRequest("GET", "/mcp", nil), "")
	observe.Deny(ctx, observe.ReasonScope, "insufficient scope")
	observe.Failed(ctx, observe.ReasonUpstream, "later")
	observe.Deny(ctx, observe.ReasonRate, "later")
	record.Finish(ctx, 403)
	e := rec.Events()[0]
	if e.Decision != observe.DecisionDeny || e.Reason != observe.ReasonScope || e.Detail != "insufficient scope" {
		t.Fatalf("event = %+v", e)
	}
}

func TestSettersWithoutARecordDoNothing(t *testing.T) {
	ctx := context.Background()
	observe.Deny(ctx, observe.ReasonScope, "x")
	observe.SetPrincipal(ctx, "a", "b", "c")
	observe.SetUpstream(ctx, 1, 1, "x")
	ctx2, end := observe.StartPhase(ctx, observe.PhaseVerify)
	end(nil)
	if ctx2 != ctx || observe.From(ctx) != nil {
		t.Fatal("a context without a record changed")
	}
}

func TestPhasesNestAndEndWithTheDecision(t *testing.T) {
	p := &phases{Recorder: observetest.New()}
	hub := observe.NewHub(p)
	ctx, record := hub.Start(context.Background(), "/mcp", httptest.NewRequest("POST", "/mcp", nil), "")
	vctx, end := observe.StartPhase(ctx, observe.PhaseVerify)
	if observe.From(vctx) != record {
		t.Fatal("the phase's context lost the record")
	}
	end(errors.New("bad signature"))
	observe.Deny(ctx, observe.ReasonRate, "slow down")
	record.Finish(ctx, 429)
	want := []string{"start request", "start verify", "end verify bad signature", "end request deny: rate"}
	if !slices.Equal(p.log, want) {
		t.Fatalf("phases = %q, want %q", p.log, want)
	}
	if got := p.Events(); len(got) != 1 || got[0].Status != 429 {
		t.Fatalf("events = %+v", got)
	}
}
