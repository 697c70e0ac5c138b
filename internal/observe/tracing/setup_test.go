package tracing

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

func TestProtocol(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"nothing set: off", nil, "", ""},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "http/protobuf", ""},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "http/protobuf", ""},
		{"exporter otlp, default endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, "http/protobuf", ""},
		{"exporter none wins", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, "", ""},
		{"sdk disabled wins", map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, "", ""},
		{"sdk disabled false", map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, "http/protobuf", ""},
		{"http/json", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "http/json", ""},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "grpc", ""},
		{"traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, "http/protobuf", ""},
		{"unknown protocol", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "thrift"}, "", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=\"thrift\""},
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "", "zipkin"},
		{"protocol alone: off", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := protocol(func(k string) string { return c.env[k] })
			if got != c.want {
				t.Errorf("protocol = %q, want %q", got, c.want)
			}
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("err = %v, want one naming %q", err, c.wantErr)
			}
		})
	}
}

// unsetOTEL clears the variables FromEnv and the SDK read, for the test.
func unsetOTEL(t *testing.T) {
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
		"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		t.Setenv(k, "")
	}
}

func TestFromEnvOffByDefault(t *testing.T) {
	unsetOTEL(t)
	o, c, err := FromEnv(context.Background(), "test", nil)
	if o != nil || c != nil || err != nil {
		t.Fatalf("FromEnv = %v, %v, %v; want nothing", o, c, err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/thrift")
	if _, _, err := FromEnv(context.Background(), "test", nil); err == nil {
		t.Fatal("an unknown protocol was accepted")
	}
}

// TestFromEnvExportsOTLP: configured through the standard variables only,
// the spans of a request reach a real OTLP/HTTP receiver when the closer
// flushes them, under OTEL_SERVICE_NAME; a second Close is harmless.
func TestFromEnvExportsOTLP(t *testing.T) {
	for _, c := range []struct {
		name string
		env  func(r *testenv.OTLPReceiver) map[string]string
	}{
		{"traces endpoint", func(r *testenv.OTLPReceiver) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": r.URL}
		}},
		{"base endpoint, gzip", func(r *testenv.OTLPReceiver) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": r.BaseURL, "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}
		}},
		{"grpc", func(r *testenv.OTLPReceiver) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": r.GRPCURL, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			unsetOTEL(t)
			rcv := testenv.StartOTLPReceiver(t)
			for k, v := range c.env(rcv) {
				t.Setenv(k, v)
			}
			t.Setenv("OTEL_SERVICE_NAME", "gw-under-test")
			o, closer, err := FromEnv(context.Background(), "1.2.3", slog.New(slog.DiscardHandler))
			if err != nil || o == nil {
				t.Fatalf("FromEnv: %v, %v", o, err)
			}
			hub := observe.NewHub(o)
			ctx, rec := hub.Start(context.Background(), "/mcp", httptest.NewRequest("POST", "/mcp", nil), "192.0.2.1")
			_, end := observe.StartPhase(ctx, observe.PhaseVerify)
			end(nil)
			rec.Finish(ctx, 200)
			if err := closer.Close(); err != nil {
				t.Fatal(err)
			}
			if err := closer.Close(); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("second Close: %v", err)
			}
			spans := rcv.Spans()
			if len(spans) != 2 || rcv.Failures() != 0 {
				t.Fatalf("received %d spans, %d failures", len(spans), rcv.Failures())
			}
			for _, s := range spans {
				if s.Resource["service.name"] != "gw-under-test" || s.Resource["service.version"] != "1.2.3" {
					t.Errorf("resource %v", s.Resource)
				}
			}
		})
	}
}
