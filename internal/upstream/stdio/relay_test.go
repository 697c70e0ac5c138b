package stdio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// TestServerToClientRequest proves a request from the child to the client
// (roots/list during a tools/call) reaches the client and its answer,
// POSTed back, reaches the child: with the standalone GET stream open, and
// without one (then it rides the waiting POST stream).
func TestServerToClientRequest(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	for _, noGET := range []bool{false, true} {
		client := mcp.NewClient(&mcp.Implementation{Name: "roots-client", Version: "1"}, nil)
		client.AddRoots(&mcp.Root{URI: "file:///a"}, &mcp.Root{URI: "file:///b"})
		tr := &mcp.StreamableClientTransport{Endpoint: h.url, HTTPClient: httpClient(t, "alice"), MaxRetries: -1, DisableStandaloneSSE: noGET}
		cs, err := client.Connect(context.Background(), tr, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := callText(t, cs, "roots", nil)
		_ = cs.Close()
		if err != nil || got != "2" {
			t.Fatalf("noGET=%v: roots = %q, %v", noGET, got, err)
		}
	}
}

// TestRequestValidation proves the transport-level answers of the relay:
// each refusal has its HTTP status and, where it is JSON-RPC, the code.
func TestRequestValidation(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	sid := h.initRaw(t, "alice", "2025-06-18")
	v := map[string]string{hdrProtocolVersion: "2025-06-18"}
	for _, c := range []struct {
		name, method, sub, sid, body string
		hdr                          map[string]string
		status, code                 int
	}{
		{"no principal", http.MethodPost, "", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, v, 401, 0},
		{"notification", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`, v, 202, 0},
		{"ping", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, v, 200, 0},
		{"not JSON", http.MethodPost, "alice", sid, `{"jsonrpc":`, v, 400, mcpwire.CodeParseError},
		{"not JSON-RPC", http.MethodPost, "alice", sid, `{"id":1,"method":"ping"}`, v, 400, mcpwire.CodeInvalidRequest},
		{"wrong content type", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Content-Type": "text/plain"}, 415, mcpwire.CodeInvalidRequest},
		{"no SSE in Accept", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Accept": "application/json"}, 406, mcpwire.CodeInvalidRequest},
		{"no session", http.MethodPost, "alice", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, v, 400, mcpwire.CodeServerError},
		{"unknown session", http.MethodPost, "alice", "nope", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, v, 404, mcpwire.CodeSessionNotFound},
		{"second initialize", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, v, 400, mcpwire.CodeInvalidRequest},
		{"unknown version", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{hdrProtocolVersion: "1999-01-01"}, 400, mcpwire.CodeInvalidRequest},
		{"2026 request without session", http.MethodPost, "alice", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{hdrProtocolVersion: "2026-07-28"}, 400, mcpwire.CodeUnsupportedProtocolVersion},
		{"2026 GET", http.MethodGet, "alice", sid, ``, map[string]string{hdrProtocolVersion: "2026-07-28"}, 405, mcpwire.CodeInvalidRequest},
		{"bad Last-Event-ID", http.MethodGet, "alice", sid, ``, map[string]string{hdrLastEventID: "garbage"}, 400, mcpwire.CodeInvalidRequest},
		{"unknown stream", http.MethodGet, "alice", sid, ``, map[string]string{hdrLastEventID: "nostream_3"}, 400, mcpwire.CodeInvalidRequest},
		{"PUT", http.MethodPut, "alice", sid, ``, nil, 405, mcpwire.CodeInvalidRequest},
		{"DELETE without session", http.MethodDelete, "alice", "", ``, nil, 400, mcpwire.CodeServerError},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, h.url, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if c.sid != "" {
				req.Header.Set(hdrSessionID, c.sid)
			}
			for k, val := range c.hdr {
				req.Header.Set(k, val)
			}
			client := http.DefaultClient
			if c.sub != "" {
				client = httpClient(t, c.sub)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.code != 0 {
				if got := decodeRPC(t, string(body)); got.Error == nil || got.Error.Code != c.code {
					t.Fatalf("body %s, want JSON-RPC error %d", body, c.code)
				}
			}
		})
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestEventIDAndEnv checks Last-Event-ID parsing and the child's
// environment (only PATH, HOME, LANG from the gateway).
func TestEventIDAndEnv(t *testing.T) {
	for _, c := range []struct {
		in   string
		sid  string
		idx  int
		okay bool
	}{{"ABC_3", "ABC", 3, true}, {"a_b_0", "a_b", 0, true}, {"_3", "", 0, false}, {"ABC", "", 0, false}, {"ABC_-1", "", 0, false}, {"ABC_x", "", 0, false}} {
		sid, idx, ok := parseEventID(c.in)
		if sid != c.sid || idx != c.idx || ok != c.okay {
			t.Errorf("parseEventID(%q) = %q %d %v", c.in, sid, idx, ok)
		}
	}
	t.Setenv("PATH", "/bin")
	t.Setenv("HOME", "/home/x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("MCPGW_ISSUER", "https://issuer")
	got := childEnv(map[string]string{"A": "1", "HOME": "/srv"}, map[string]string{"MCP_GATEWAY_SUBJECT": "alice"})
	want := []string{"A=1", "HOME=/srv", "MCP_GATEWAY_SUBJECT=alice", "PATH=/bin"}
	if lang, ok := os.LookupEnv("LANG"); ok {
		want = append(want, "LANG="+lang)
		slices.Sort(want)
	}
	if !slices.Equal(got, want) {
		b, _ := json.Marshal(got)
		t.Fatalf("childEnv = %s, want %v", b, want)
	}
}

// TestRelayWire proves what the relay writes to the child and how it
// routes the answers: a pretty-printed body reaches a line-based child as
// one line per message; a response whose id is spelled differently (1 for
// 1.0) still answers its request (one canonical id key).
func TestRelayWire(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	sid := h.initRaw(t, "alice", "2025-06-18")
	v := map[string]string{hdrProtocolVersion: "2025-06-18"}
	for _, c := range []struct {
		name, body, wantID, wantText string
	}{
		{"pretty-printed body", "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": \"p1\",\n  \"method\": \"tools/call\",\n  \"params\": {\"name\": \"echo\",\n    \"arguments\": {\"message\": \"a\\nb\"}}\n}\n", `"p1"`, "a\nb"},
		{"id 1.0", `{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"echo","arguments":{"message":"one"}}}`, "", "one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
			defer cancel()
			resp := h.rawPost(t, ctx, "alice", sid, c.body, v)
			defer resp.Body.Close()
			evs := readSSE(t, resp.Body, nil)
			if resp.StatusCode != http.StatusOK || len(evs) != 1 {
				t.Fatalf("%s: %+v", resp.Status, evs)
			}
			m := decodeRPC(t, evs[0].data)
			var res mcp.CallToolResult
			if err := json.Unmarshal(m.Result, &res); err != nil || contentText(&res) != c.wantText {
				t.Fatalf("answer %s: %v", evs[0].data, err)
			}
			if c.wantID != "" && string(m.ID) != c.wantID {
				t.Fatalf("answer id %s, want %s", m.ID, c.wantID)
			}
		})
	}
	if strings.Contains(h.log.String(), "not one JSON message") {
		t.Fatalf("the child got a message split over lines:\n%s", h.log.String())
	}
}

// TestBodyComesFromCall proves the relay reads neither the request body
// nor its own cap: it relays the body call.Read parsed (here one that
// differs from the bytes left in r.Body), and without call.Read in front a
// POST fails closed with 500.
func TestBodyComesFromCall(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	init := `{"jsonrpc":"2.0","id":"from-call","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	parsed, perr := mcpwire.ParseBody([]byte(init))
	if perr != nil {
		t.Fatal(perr)
	}
	substitute := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call.Call{Principal: call.PrincipalFrom(r.Context()), Body: parsed}
		r = r.WithContext(call.With(r.Context(), c))
		r.Body = io.NopCloser(strings.NewReader("not JSON at all"))
		h.srv.ServeHTTP(w, r)
	})
	for _, c := range []struct {
		name    string
		handler http.Handler
		status  int
		want    string
	}{
		{"body from call", withPrincipal(substitute), http.StatusOK, `"id":"from-call","result"`},
		{"no call.Read in front", withPrincipal(h.srv), http.StatusInternalServerError, `"code":-32603`},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := httptest.NewServer(c.handler)
			defer hs.Close()
			req, _ := http.NewRequest(http.MethodPost, hs.URL, strings.NewReader(init))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := httpClient(t, "alice").Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
				t.Fatalf("%s %s, want %d with %s", resp.Status, body, c.status, c.want)
			}
			if sid := resp.Header.Get(hdrSessionID); sid != "" {
				del, _ := http.NewRequest(http.MethodDelete, hs.URL, nil)
				del.Header.Set(hdrSessionID, sid)
				if r, err := httpClient(t, "alice").Do(del); err == nil {
					_ = r.Body.Close()
				}
			}
		})
	}
	waitFor(t, "every session ended", func() bool { return h.srv.Sessions() == 0 })
}
