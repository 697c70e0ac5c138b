package dcrmetrics

import (
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// DefaultNamespace is the CloudWatch namespace of the EMF metrics.
const DefaultNamespace = "mcp-dcr"

// CloudWatch units used by the EMF lines.
const (
	unitCount   = "Count"
	unitSeconds = "Seconds"
)

// EMF is dcr.Metrics as CloudWatch Embedded Metric Format: every
// measurement is written at once as one JSON line (the EMF "structured log
// event": an _aws member with the Timestamp in milliseconds and the
// CloudWatchMetrics directives, then the dimensions as top-level strings
// and the metric values as top-level numbers). Under Lambda the lines go to
// stdout, which CloudWatch Logs reads; it extracts the metrics itself, so
// nothing is aggregated or flushed here and no line is lost when an
// invocation fails. Dimension values are never empty (CloudWatch refuses
// them): dcr's label values are not. Write errors are ignored (stdout). It
// is safe for concurrent use: lines are written whole, one at a time.
//
// Not done: batching several measurements into one line, high-resolution
// (StorageResolution 1) metrics, the 100-metric and 30-dimension limits of
// one directive (a line here has at most two metrics and two dimensions).
type EMF struct {
	mu        sync.Mutex
	w         io.Writer
	now       func() time.Time
	namespace string
}

var _ dcr.Metrics = (*EMF)(nil)

// NewEMF writes EMF lines to w (os.Stdout under Lambda) in namespace
// (DefaultNamespace when empty), timestamped by now (time.Now when nil).
func NewEMF(w io.Writer, namespace string, now func() time.Time) *EMF {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	if now == nil {
		now = time.Now
	}
	return &EMF{w: w, now: now, namespace: namespace}
}

// emfMetadata is the _aws member (EMF specification, "Root node").
type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emfDirective is one MetricDirective: the metrics in Metrics are
// recorded under every dimension set of Dimensions.
type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

// emfMetric is one MetricDefinition.
type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// metric is one value with its unit and dimension names.
type metric struct {
	name  string
	unit  string
	value float64
	dims  []string
}

// write renders the metrics, with the dimension values in dims, as one
// line: one directive per metric.
func (e *EMF) write(dims map[string]string, ms ...metric) {
	doc := make(map[string]any, len(dims)+len(ms)+1)
	meta := emfMetadata{Timestamp: e.now().UnixMilli()}
	for _, m := range ms {
		meta.CloudWatchMetrics = append(meta.CloudWatchMetrics, emfDirective{Namespace: e.namespace,
			Dimensions: [][]string{m.dims}, Metrics: []emfMetric{{Name: m.name, Unit: m.unit}}})
		doc[m.name] = m.value
	}
	for k, v := range dims {
		doc[k] = v
	}
	doc["_aws"] = meta
	line, err := json.Marshal(doc) // keys sorted: the line is deterministic
	if err != nil {
		return // not reachable: strings and finite numbers only
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(append(line, '\n'))
}

// Request writes mcpdcr_requests_total with dimensions endpoint and status.
func (e *EMF) Request(endpoint string, status int) {
	e.write(map[string]string{"endpoint": endpoint, "status": strconv.Itoa(status)},
		metric{NameRequests, unitCount, 1, []string{"endpoint", "status"}})
}

// Registration writes mcpdcr_registrations_total with dimensions result
// and reason.
func (e *EMF) Registration(result, reason string) {
	e.write(map[string]string{"result": result, "reason": reason},
		metric{NameRegistrations, unitCount, 1, []string{"result", "reason"}})
}

// RateLimited writes mcpdcr_rate_limited_total with dimension endpoint.
func (e *EMF) RateLimited(endpoint string) {
	e.write(map[string]string{"endpoint": endpoint},
		metric{NameRateLimited, unitCount, 1, []string{"endpoint"}})
}

// CognitoCall writes mcpdcr_cognito_calls_total with dimensions op and
// result, and mcpdcr_cognito_call_duration_seconds with dimension op, in
// one line.
func (e *EMF) CognitoCall(op, result string, d time.Duration) {
	e.write(map[string]string{"op": op, "result": result},
		metric{NameCognitoCalls, unitCount, 1, []string{"op", "result"}},
		metric{NameCognitoDuration, unitSeconds, d.Seconds(), []string{"op"}})
}

// CIMDFetch writes mcpdcr_cimd_fetches_total with dimension result.
func (e *EMF) CIMDFetch(result string) {
	e.write(map[string]string{"result": result},
		metric{NameCIMDFetches, unitCount, 1, []string{"result"}})
}
