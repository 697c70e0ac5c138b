// Package grafana_test checks the Grafana dashboard deploy/grafana/mcp-gateway.json:
// its data source and route variables, and that every PromQL expression
// uses only the gateway's metric names (mcpgw_*, with their labels) and
// standard PromQL functions, so that renaming a metric or a label breaks
// this test rather than the dashboard. Every metric has a panel. Not
// checked: that Grafana renders it (no Grafana here), PromQL semantics
// beyond names (a small lexer, not the Prometheus parser).
package grafana_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metrics are the gateway's Prometheus families (internal/observe/metrics)
// and their labels. Histograms also have _bucket (with le), _sum and _count.
var metrics = map[string]struct {
	labels    []string
	histogram bool
}{
	"mcpgw_requests_total":            {labels: []string{"route", "method", "status"}},
	"mcpgw_request_duration_seconds":  {labels: []string{"route"}, histogram: true},
	"mcpgw_auth_decisions_total":      {labels: []string{"route", "decision", "reason"}},
	"mcpgw_jwks_fetches_total":        {labels: []string{"result"}},
	"mcpgw_jwks_keys":                 {},
	"mcpgw_jwks_age_seconds":          {},
	"mcpgw_upstream_duration_seconds": {labels: []string{"route"}, histogram: true},
	"mcpgw_upstream_errors_total":     {labels: []string{"route", "kind"}},
	"mcpgw_sessions":                  {labels: []string{"route"}},
	"mcpgw_streams":                   {labels: []string{"route"}},
	"mcpgw_token_cache_hits_total":    {},
	"mcpgw_token_cache_misses_total":  {},
}

// targetLabels are what Prometheus (and the Prometheus Operator) attach to
// every scraped series.
var targetLabels = []string{"job", "instance", "namespace", "pod", "service", "container", "endpoint"}

// functions are the PromQL functions and aggregations the dashboard may
// call (Prometheus documentation, "Query functions" and "Operators").
var functions = []string{
	"sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "stddev", "stdvar", "group",
	"rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes",
	"avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "last_over_time",
	"histogram_quantile", "abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max",
	"absent", "absent_over_time", "time", "timestamp", "vector", "scalar", "label_replace", "label_join", "sort", "sort_desc",
}

// keywords are PromQL's binary-operator and modifier words.
var keywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}

type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource datasource `json:"datasource"`
	Panels     []panel    `json:"panels"` // a collapsed row's
	Targets    []struct {
		Expr       string     `json:"expr"`
		Datasource datasource `json:"datasource"`
	} `json:"targets"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Datasource datasource      `json:"datasource"`
}

// query is a variable's query: a string, or {"query": "..."}.
func (v variable) query(t *testing.T) string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &q); err != nil {
		t.Fatalf("variable %s: query %s: %v", v.Name, v.Query, err)
	}
	return q.Query
}

func load(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("mcp-gateway.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("mcp-gateway.json: %v", err)
	}
	return d
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// TestDashboardVariables: a Prometheus data source variable that every
// panel and query uses, and a route variable read from the gateway's
// metrics.
func TestDashboardVariables(t *testing.T) {
	d := load(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed to import and link the dashboard", d.UID, d.Title)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if ds := vars["datasource"]; ds.Type != "datasource" || ds.query(t) != "prometheus" {
		t.Errorf("datasource variable %+v, want type datasource, query prometheus", ds)
	}
	route := vars["route"]
	if route.Type != "query" || route.Datasource.UID != "${datasource}" ||
		!regexp.MustCompile(`^label_values\(mcpgw_\w+.*,\s*route\)$`).MatchString(route.query(t)) {
		t.Errorf("route variable %+v (query %q), want label_values(<mcpgw metric>, route) on ${datasource}", route, route.query(t))
	}
	ids := map[int]bool{}
	for _, p := range allPanels(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: a query's datasource %+v, want ${datasource}", p.Title, tg.Datasource)
			}
			if strings.Contains(tg.Expr, "mcpgw_") && strings.Contains(tg.Expr, "route") && !strings.Contains(tg.Expr, `route=~"$route"`) {
				t.Errorf("panel %q: %q does not filter by $route", p.Title, tg.Expr)
			}
		}
	}
}

// TestDashboardUsesGatewayMetrics: every expression (panels and variable
// queries) names only known metrics, their labels and PromQL functions,
// and every metric has a panel.
func TestDashboardUsesGatewayMetrics(t *testing.T) {
	d := load(t)
	used := map[string]bool{}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			names, err := checkExpr(tg.Expr)
			if err != nil {
				t.Errorf("panel %q: %q: %v", p.Title, tg.Expr, err)
			}
			for _, n := range names {
				used[n] = true
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if _, err := checkVariableQuery(v.query(t)); err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
		}
	}
	for _, m := range slices.Sorted(maps.Keys(metrics)) {
		if !used[m] {
			t.Errorf("no panel shows %s", m)
		}
	}
}

// TestCheckExprRefuses keeps the checker honest: a renamed metric, an
// unknown label, function or label_values label each fail.
func TestCheckExprRefuses(t *testing.T) {
	for _, expr := range []string{
		`sum(rate(mcpgw_request_total[5m]))`,                             // renamed metric
		`sum by (path) (rate(mcpgw_requests_total[5m]))`,                 // label not on the metric
		`rate(mcpgw_requests_total{path="/mcp"}[5m])`,                    // matcher on an unknown label
		`histogram_quantile(0.9, rate(mcpgw_requests_total_bucket[5m]))`, // not a histogram
		`rate(mcpgw_jwks_keys_bucket[5m])`,                               // not a histogram either
		`sum(ratez(mcpgw_requests_total[5m]))`,                           // unknown function
		`sum(rate(go_goroutines[5m]))`,                                   // not the gateway's
	} {
		if _, err := checkExpr(expr); err == nil {
			t.Errorf("checkExpr(%q) accepted it", expr)
		}
	}
	if _, err := checkVariableQuery(`label_values(mcpgw_jwks_keys, route)`); err == nil {
		t.Error("label_values of a label the metric lacks was accepted")
	}
	names, err := checkExpr(`histogram_quantile(0.99, sum by (route, le) (rate(mcpgw_request_duration_seconds_bucket{job=~"$job",route=~"$route"}[$__rate_interval]))) > bool 1`)
	if err != nil || !slices.Equal(names, []string{"mcpgw_request_duration_seconds"}) {
		t.Errorf("a valid expression: %v, %v", names, err)
	}
}

var (
	labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
	// Removed before lexing: string literals, [range] and [range:step]
	// selectors, Grafana variables.
	stringLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	rangeSel   = regexp.MustCompile(`\[[^\]]*\]`)
	grafanaVar = regexp.MustCompile(`\$\{?\w+\}?`)
	// A selector's label matchers, a grouping clause's labels.
	matchers = regexp.MustCompile(`([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}`)
	grouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	ident    = regexp.MustCompile(`[A-Za-z_:][\w:]*`)
	number   = regexp.MustCompile(`(?i)\b(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|inf|nan)\b`)
)

// checkVariableQuery checks Grafana's label_values(expr, label) or a plain
// expression.
func checkVariableQuery(q string) ([]string, error) {
	m := labelValues.FindStringSubmatch(q)
	if m == nil {
		return checkExpr(q)
	}
	names, err := checkExpr(m[1])
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if !hasLabel(n, m[2]) {
			return nil, fmt.Errorf("label_values: %s has no label %s", n, m[2])
		}
	}
	return names, nil
}

// checkExpr lexes a PromQL expression and returns the gateway metrics it
// names (histogram suffixes removed), or what it names that is neither a
// gateway metric, one of its labels, a PromQL function nor a keyword.
func checkExpr(expr string) ([]string, error) {
	e := stringLit.ReplaceAllString(expr, `""`)
	e = rangeSel.ReplaceAllString(e, " ")
	e = grafanaVar.ReplaceAllString(e, " ")
	var series []string // as written, with a histogram suffix
	var labels []string
	for _, m := range matchers.FindAllStringSubmatch(e, -1) {
		if m[1] != "" {
			series = append(series, m[1])
		}
		for _, part := range strings.Split(m[2], ",") {
			if name := ident.FindString(part); name != "" {
				labels = append(labels, name)
			}
		}
	}
	e = matchers.ReplaceAllString(e, " $1 ")
	for _, m := range grouping.FindAllStringSubmatch(e, -1) {
		labels = append(labels, ident.FindAllString(m[2], -1)...)
	}
	e = grouping.ReplaceAllString(e, " ")
	e = number.ReplaceAllString(e, " ")
	for _, loc := range ident.FindAllStringIndex(e, -1) {
		word := e[loc[0]:loc[1]]
		call := strings.HasPrefix(strings.TrimLeft(e[loc[1]:], " \t\n"), "(")
		switch {
		case call && slices.Contains(functions, word):
		case call:
			return nil, fmt.Errorf("%s( is not a known PromQL function", word)
		case slices.Contains(keywords, word):
		default:
			series = append(series, word)
		}
	}
	var names []string
	for _, s := range series {
		name, bucket, err := family(s)
		if err != nil {
			return nil, err
		}
		for _, l := range labels {
			if !hasLabel(name, l) && !(bucket && l == "le") {
				return nil, fmt.Errorf("%s has no label %s", s, l)
			}
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("names no gateway metric")
	}
	return names, nil
}

// family maps a series name to its metric: itself, or a histogram's
// _bucket, _sum or _count.
func family(series string) (name string, bucket bool, err error) {
	if _, ok := metrics[series]; ok {
		return series, false, nil
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suffix)
		if m, known := metrics[base]; ok && known && m.histogram {
			return base, suffix == "_bucket", nil
		}
	}
	return "", false, fmt.Errorf("%s is not a gateway metric (mcpgw_* list in dashboard_test.go)", series)
}

// hasLabel reports whether metric's series carry label.
func hasLabel(metric, label string) bool {
	return slices.Contains(metrics[metric].labels, label) || slices.Contains(targetLabels, label)
}
