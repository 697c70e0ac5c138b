package grafana_test

import (
	"context"
	"maps"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	gwmetrics "github.com/mcp-gateway/mcp-gateway/internal/observe/metrics"
)

type keys struct{}

func (keys) FetchResults() (ok, failed int64) { return 1, 1 }
func (keys) Len() int                         { return 2 }
func (keys) LoadedAt() time.Time              { return time.Unix(1_700_000_000, 0) }

type cache struct{}

func (cache) CacheStats() authn.CacheStats { return authn.CacheStats{} }

// TestDashboardMetricsAreExported: every metric the dashboard may query
// is one the gateway's metrics package really exports, with the labels
// the dashboard expects, so renaming a metric or a label in code breaks
// this test, not a production dashboard.
func TestDashboardMetricsAreExported(t *testing.T) {
	m := gwmetrics.New(gwmetrics.Options{Now: func() time.Time { return time.Unix(1_700_000_100, 0) }})
	if err := m.WatchKeys(keys{}); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchTokenCaches(cache{}); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchSessions("/mcp", func() int { return 1 }); err != nil {
		t.Fatal(err)
	}
	hub := observe.NewHub(m)
	for _, e := range []struct {
		fail bool
	}{{false}, {true}} {
		r := httptest.NewRequest("POST", "/mcp", nil)
		ctx, rec := hub.Start(context.Background(), "/mcp", r, "192.0.2.1")
		observe.SetOperations(ctx, []observe.Operation{{Method: "tools/call", Name: "echo"}})
		if e.fail {
			observe.SetUpstream(ctx, 502, time.Millisecond, "status")
			observe.Failed(ctx, observe.ReasonUpstream, "bad gateway")
		} else {
			observe.SetUpstream(ctx, 200, time.Millisecond, "")
		}
		rec.Finish(ctx, 200)
	}
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string][]string{}
	for _, f := range families {
		var labels []string
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() != "le" && !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		exported[f.GetName()] = labels
	}
	for _, name := range slices.Sorted(maps.Keys(dashboardMetrics())) {
		got, ok := exported[name]
		if !ok {
			t.Errorf("the dashboard queries %s, which the gateway does not export", name)
			continue
		}
		for _, l := range dashboardMetrics()[name] {
			if !slices.Contains(got, l) {
				t.Errorf("%s: the dashboard expects label %q, the gateway exports %q", name, l, got)
			}
		}
	}
}

// dashboardMetrics are the dashboard test's metric names and labels.
func dashboardMetrics() map[string][]string {
	out := map[string][]string{}
	for name, m := range metrics {
		out[name] = m.labels
	}
	return out
}
