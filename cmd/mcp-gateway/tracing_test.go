package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00-" + clientTrace + "-00f067aa0ba902b7-01"
	// tracedCall is a tools/call with white space, as a client may send it.
	tracedCall = `{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}}`
)

// recordingUpstream is an MCP upstream that keeps the headers and body of
// every POST and answers it with an empty tool result.
type recordingUpstream struct {
	*httptest.Server
	mu    sync.Mutex
	posts []recordedPost
}

type recordedPost struct {
	header http.Header
	body   []byte
}

func startRecordingUpstream(t *testing.T) *recordingUpstream {
	u := &recordingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		u.mu.Lock()
		u.posts = append(u.posts, recordedPost{r.Header.Clone(), body})
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":7,"result":{"content":[]}}`)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *recordingUpstream) all() []recordedPost {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]recordedPost(nil), u.posts...)
}

// tracedGateway wires, as serve does, a gateway with one HTTP route to
// up (admin_* tools need mcp:admin) from the process environment, which
// holds the OTEL_* settings. stop ends the server, waiting for its
// requests, then closes the app (flushing spans).
func tracedGateway(t *testing.T, up string) (url, token string, stop func()) {
	t.Helper()
	iss := authntest.NewIssuer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	cfg := &config.Config{Listen: ln.Addr().String(), PublicURL: public, Issuer: iss.URL, Provider: "generic",
		LogLevel: "error", AuditLog: "off", RequiredScopes: []string{"mcp:read"},
		Routes: []config.Route{{Path: "/mcp", Upstream: up, ToolScopes: map[string][]string{"admin_*": {"mcp:admin"}}}}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := wire(cfg, slog.New(slog.DiscardHandler), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.keys.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.server.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close(); cancel(); a.close() }) }
	t.Cleanup(stop)
	resource := gateway.ResourceURL(public, "/mcp")
	return resource, iss.Mint(iss.Claims(resource)), stop
}

// post sends body to url with token and extra headers; it returns the
// status.
func post(t *testing.T, url, token, body string, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// clearOTEL empties the OTEL_* variables the gateway or the SDK read.
func clearOTEL(t *testing.T) {
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"} {
		t.Setenv(k, "")
	}
}

// TestServeTracesToOTLP: configured only through
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, a tools/call through an HTTP route
// is exported to a real OTLP/HTTP receiver as a server span (continuing
// the client's traceparent) with verify, authz and upstream children; the
// upstream receives the upstream span's context as its traceparent header
// and in params._meta.traceparent. A refused call's server and authz spans
// are errors. No span names the caller.
func TestServeTracesToOTLP(t *testing.T) {
	clearOTEL(t)
	rcv := testenv.StartOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", rcv.URL)
	up := startRecordingUpstream(t)
	url, token, stop := tracedGateway(t, up.URL)

	if st := post(t, url, token, tracedCall, map[string]string{"traceparent": clientParent}); st != http.StatusOK {
		t.Fatalf("tools/call: %d", st)
	}
	denied := `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"admin_reset"}}`
	if st := post(t, url, token, denied, nil); st != http.StatusForbidden {
		t.Fatalf("admin tools/call: %d, want 403", st)
	}
	stop() // the requests are done; the closer flushes the spans
	if rcv.Failures() != 0 {
		t.Fatalf("%d malformed exports", rcv.Failures())
	}

	spans := rcv.Spans()
	byID := map[string]testenv.ReceivedSpan{}
	for _, s := range spans {
		byID[s.SpanID()] = s
		for _, kv := range s.GetAttributes() {
			if v := kv.GetValue().GetStringValue(); strings.Contains(v, authntest.Subject) || strings.Contains(v, authntest.ClientID) {
				t.Errorf("span %s names the caller: %s=%s", s.GetName(), kv.GetKey(), v)
			}
		}
	}
	children := func(root testenv.ReceivedSpan) map[string]testenv.ReceivedSpan {
		out := map[string]testenv.ReceivedSpan{}
		for _, s := range spans {
			if s.ParentID() == root.SpanID() && s.TraceID() == root.TraceID() {
				out[s.GetName()] = s
			}
		}
		return out
	}
	var allowed, refused *testenv.ReceivedSpan
	for i, s := range spans {
		switch s.GetName() {
		case "tools/call echo":
			allowed = &spans[i]
		case "tools/call admin_reset":
			refused = &spans[i]
		}
	}
	if allowed == nil || refused == nil {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.GetName())
		}
		t.Fatalf("server spans missing; got %v", names)
	}
	if allowed.TraceID() != clientTrace || allowed.ParentID() != "00f067aa0ba902b7" {
		t.Errorf("server span in trace %s under %s: the client's traceparent was not continued", allowed.TraceID(), allowed.ParentID())
	}
	if allowed.Resource["service.name"] != "mcp-gateway" || allowed.Attr("gen_ai.tool.name") != "echo" ||
		allowed.Attr("mcp.method.name") != "tools/call" || allowed.Attr("http.route") != "/mcp" || allowed.Attr("mcpgw.decision") != "allow" {
		t.Errorf("server span attributes: %v, resource %v", allowed.GetAttributes(), allowed.Resource)
	}
	kids := children(*allowed)
	for _, name := range []string{"verify", "authz", "upstream"} {
		if _, ok := kids[name]; !ok {
			t.Errorf("no %s child of the server span; children %v", name, kids)
		}
	}
	upSpan := kids["upstream"]
	want := "00-" + upSpan.TraceID() + "-" + upSpan.SpanID() + "-01"
	posts := up.all()
	if len(posts) != 1 {
		t.Fatalf("upstream got %d posts, want 1 (the refused call must not reach it)", len(posts))
	}
	if got := posts[0].header.Get("traceparent"); got != want {
		t.Errorf("upstream traceparent header %q, want %q", got, want)
	}
	var m struct {
		Params struct {
			Name string         `json:"name"`
			Meta map[string]any `json:"_meta"`
		} `json:"params"`
	}
	if err := json.Unmarshal(posts[0].body, &m); err != nil || m.Params.Meta["traceparent"] != want || m.Params.Name != "echo" {
		t.Errorf("upstream body %s (%v): want params._meta.traceparent %q", posts[0].body, err, want)
	}

	if refused.GetStatus().GetCode().String() != "STATUS_CODE_ERROR" || refused.Attr("mcpgw.reason") != "scope" {
		t.Errorf("refused call's server span: status %v attributes %v", refused.GetStatus(), refused.GetAttributes())
	}
	if az, ok := children(*refused)["authz"]; !ok || az.GetStatus().GetCode().String() != "STATUS_CODE_ERROR" {
		t.Errorf("refused call's authz span: %v", az.GetStatus())
	}
}

// TestServeUntracedByDefault: with no OTEL_* settings nothing is traced
// or injected: the upstream receives the client's body byte for byte and
// no trace context, even when the client sent a traceparent.
func TestServeUntracedByDefault(t *testing.T) {
	clearOTEL(t)
	up := startRecordingUpstream(t)
	url, token, _ := tracedGateway(t, up.URL)
	if st := post(t, url, token, tracedCall, map[string]string{"traceparent": clientParent}); st != http.StatusOK {
		t.Fatalf("tools/call: %d", st)
	}
	posts := up.all()
	if len(posts) != 1 || !bytes.Equal(posts[0].body, []byte(tracedCall)) {
		t.Fatalf("upstream body %q, want the client's bytes", posts[0].body)
	}
	if h := posts[0].header.Get("traceparent"); h != "" {
		t.Errorf("traceparent %q without tracing", h)
	}
}
