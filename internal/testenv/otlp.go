package testenv

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// OTLPReceiver is an OTLP trace receiver (OTLP Specification
// "OTLP/HTTP", binary protobuf, gzip or not, and "OTLP/gRPC"): what a
// collector on ports 4318 and 4317 is to the code under test. It keeps
// every span it is sent.
type OTLPReceiver struct {
	// URL is the traces endpoint, for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
	// (http://127.0.0.1:<port>/v1/traces).
	URL string
	// BaseURL is the endpoint for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter
	// appends /v1/traces).
	BaseURL string
	// GRPCURL is the OTLP/gRPC endpoint, http://127.0.0.1:<port> (http:
	// without TLS), for OTEL_EXPORTER_OTLP_ENDPOINT with
	// OTEL_EXPORTER_OTLP_PROTOCOL=grpc.
	GRPCURL string

	mu       sync.Mutex
	spans    []ReceivedSpan
	failures int // requests that were not a decodable export
}

// ReceivedSpan is one exported span with its resource's attributes.
type ReceivedSpan struct {
	*tracepb.Span
	// Resource holds the string attributes of the span's resource
	// (service.name, ...).
	Resource map[string]string
}

// TraceID is the span's trace id in hex, as in a traceparent.
func (s ReceivedSpan) TraceID() string { return hex.EncodeToString(s.Span.GetTraceId()) }

// SpanID is the span's id in hex.
func (s ReceivedSpan) SpanID() string { return hex.EncodeToString(s.Span.GetSpanId()) }

// ParentID is the parent span's id in hex ("" for a root span).
func (s ReceivedSpan) ParentID() string { return hex.EncodeToString(s.Span.GetParentSpanId()) }

// Attr returns the attribute key as a string (ints and booleans in
// decimal and true/false; "" when absent).
func (s ReceivedSpan) Attr(key string) string {
	for _, kv := range s.Span.GetAttributes() {
		if kv.GetKey() != key {
			continue
		}
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue
		case *commonpb.AnyValue_IntValue:
			return strconv.FormatInt(v.IntValue, 10)
		case *commonpb.AnyValue_BoolValue:
			return strconv.FormatBool(v.BoolValue)
		}
	}
	return ""
}

// StartOTLPReceiver serves an OTLPReceiver on two loopback ports (HTTP
// and gRPC) until the test ends. HTTP request bodies are capped at 16 MiB.
func StartOTLPReceiver(t testing.TB) *OTLPReceiver {
	t.Helper()
	r := &OTLPReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.BaseURL = srv.URL
	r.URL = srv.URL + "/v1/traces"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, grpcTraces{r: r})
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	r.GRPCURL = "http://" + ln.Addr().String()
	return r
}

// grpcTraces is the receiver's OTLP/gRPC TraceService.
type grpcTraces struct {
	coltracepb.UnimplementedTraceServiceServer
	r *OTLPReceiver
}

func (g grpcTraces) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	g.r.keep(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// keep stores the spans of one export.
func (r *OTLPReceiver) keep(msg *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range msg.GetResourceSpans() {
		res := map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			res[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, ReceivedSpan{Span: s, Resource: res})
			}
		}
	}
}

func (r *OTLPReceiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		r.fail()
		http.Error(w, "want POST /v1/traces application/x-protobuf", http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, req.Body, 16<<20)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			r.fail()
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var msg coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &msg)
	}
	if err != nil {
		r.fail()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.keep(&msg)
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (r *OTLPReceiver) fail() {
	r.mu.Lock()
	r.failures++
	r.mu.Unlock()
}

// Spans returns the spans received so far, in arrival order.
func (r *OTLPReceiver) Spans() []ReceivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ReceivedSpan(nil), r.spans...)
}

// Failures is the number of requests that were not a decodable export.
func (r *OTLPReceiver) Failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}
