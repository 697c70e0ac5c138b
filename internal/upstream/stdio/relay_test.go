package stdio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestServerToClientRequest proves a request from the child to the client
// (roots/list during a tools/call) reaches the client and its answer,
// POSTed back, reaches the child: with the standalone GET stream open, and
// without one (then it rides the waiting POST stream).
func TestServerToClientRequest(t *testing.T) {
	checkGoroutines(t)
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
	checkGoroutines(t)
	h := newHarness(t, func(o *Options) { o.MaxBodyBytes = 1024 })
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
		{"not JSON", http.MethodPost, "alice", sid, `{"jsonrpc":`, v, 400, codeParseError},
		{"not JSON-RPC", http.MethodPost, "alice", sid, `{"id":1,"method":"ping"}`, v, 400, codeInvalidRequest},
		{"too large", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("x", 2000) + `"}}`, v, 413, codeInvalidRequest},
		{"wrong content type", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Content-Type": "text/plain"}, 415, codeInvalidRequest},
		{"no SSE in Accept", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Accept": "application/json"}, 406, codeInvalidRequest},
		{"no session", http.MethodPost, "alice", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, v, 400, codeServerError},
		{"unknown session", http.MethodPost, "alice", "nope", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, v, 404, codeSessionNotFound},
		{"second initialize", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, v, 400, codeInvalidRequest},
		{"unknown version", http.MethodPost, "alice", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{hdrProtocolVersion: "1999-01-01"}, 400, codeInvalidRequest},
		{"2026 request without session", http.MethodPost, "alice", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{hdrProtocolVersion: "2026-07-28"}, 400, codeUnsupportedVersion},
		{"2026 GET", http.MethodGet, "alice", sid, ``, map[string]string{hdrProtocolVersion: "2026-07-28"}, 405, codeInvalidRequest},
		{"bad Last-Event-ID", http.MethodGet, "alice", sid, ``, map[string]string{hdrLastEventID: "garbage"}, 400, codeInvalidRequest},
		{"unknown stream", http.MethodGet, "alice", sid, ``, map[string]string{hdrLastEventID: "nostream_3"}, 400, codeInvalidRequest},
		{"PUT", http.MethodPut, "alice", sid, ``, nil, 405, codeInvalidRequest},
		{"DELETE without session", http.MethodDelete, "alice", "", ``, nil, 400, codeServerError},
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

// TestParseMessages checks the envelope parser and id canonicalization.
func TestParseMessages(t *testing.T) {
	for _, c := range []struct {
		in      string
		batch   bool
		kinds   string // r(equest) n(otification) s (response) per message
		ids     []string
		token   string
		wantErr bool
	}{
		{in: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, kinds: "r", ids: []string{"n:1"}},
		{in: `{"jsonrpc":"2.0","id":1.0,"result":{}}`, kinds: "s", ids: []string{"n:1"}},
		{in: `{"jsonrpc":"2.0","id":"1","result":{}}`, kinds: "s", ids: []string{"s:1"}},
		{in: `{"jsonrpc":"2.0","id":2.5,"error":{"code":1,"message":"x"}}`, kinds: "s", ids: []string{"n:2.5"}},
		{in: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, kinds: "n", ids: []string{""}},
		{in: `{"jsonrpc":"2.0","id":null,"method":"x"}`, kinds: "n", ids: []string{""}},
		{in: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"progressToken":"abc"}}}`, kinds: "r", ids: []string{"n:7"}, token: "s:abc"},
		{in: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":3,"progress":1}}`, kinds: "n", ids: []string{""}, token: "n:3"},
		{in: `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]`, batch: true, kinds: "rn", ids: []string{"n:1", ""}},
		{in: `[]`, batch: true, wantErr: true},
		{in: `{"jsonrpc":"1.0","id":1,"method":"a"}`, wantErr: true},
		{in: `{"jsonrpc":"2.0","id":{},"method":"a"}`, wantErr: true},
		{in: `{"jsonrpc":"2.0","id":1}`, wantErr: true},
		{in: `"hello"`, wantErr: true},
	} {
		msgs, batch, err := parseMessages([]byte(c.in))
		if (err != nil) != c.wantErr || batch != c.batch {
			t.Errorf("%s: batch=%v err=%v", c.in, batch, err)
			continue
		}
		if err != nil {
			continue
		}
		var kinds string
		var ids []string
		for _, m := range msgs {
			switch {
			case m.isRequest():
				kinds += "r"
			case m.isNotification():
				kinds += "n"
			case m.isResponse():
				kinds += "s"
			}
			ids = append(ids, m.id)
		}
		if kinds != c.kinds || !slices.Equal(ids, c.ids) || msgs[0].token != c.token {
			t.Errorf("%s: kinds %q ids %q token %q; want %q %q %q", c.in, kinds, ids, msgs[0].token, c.kinds, c.ids, c.token)
		}
	}
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
