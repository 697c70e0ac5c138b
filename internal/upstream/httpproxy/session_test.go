package httpproxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

func TestSessionCodec(t *testing.T) {
	c := sessionCodec{key: testKey, route: "/mcp/a"}
	alice := principal("alice")
	good, err := c.wrap("up-1", alice)
	if err != nil {
		t.Fatal(err)
	}
	idPart, _, _ := strings.Cut(good, ".")
	otherMAC, _ := sessionCodec{key: testKey, route: "/mcp/a"}.wrap("up-2", alice)
	_, otherMACPart, _ := strings.Cut(otherMAC, ".")
	tests := []struct {
		name  string
		codec sessionCodec
		id    string
		p     *authn.Principal
		ok    bool
	}{
		{"round trip", c, good, alice, true},
		{"other subject", c, good, principal("bob"), false},
		{"other issuer", c, good, &authn.Principal{Issuer: "https://evil.test", Subject: "alice"}, false},
		{"other route", sessionCodec{key: testKey, route: "/mcp/b"}, good, alice, false},
		{"other key", sessionCodec{key: []byte("another-key-another-key-another-key!"), route: "/mcp/a"}, good, alice, false},
		{"mac of another id", c, idPart + "." + otherMACPart, alice, false},
		{"no mac", c, idPart, alice, false},
		{"empty mac", c, idPart + ".", alice, false},
		{"raw upstream id", c, "up-1", alice, false},
		{"bad base64", c, "!!!." + otherMACPart, alice, false},
		{"empty", c, "", alice, false},
		{"oversized", c, strings.Repeat("A", 5000) + ".x", alice, false},
		{"nil principal", c, good, nil, false},
		{"NUL in subject", c, good, &authn.Principal{Issuer: testIssuer, Subject: "ali\x00ce"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.codec.unwrap(tt.id, tt.p)
			if ok != tt.ok || (ok && got != "up-1") {
				t.Errorf("unwrap = %q, %v; want ok=%v", got, ok, tt.ok)
			}
		})
	}
	for _, bad := range []string{"", "has space", "ctl\x01", strings.Repeat("x", maxSessionIDBytes+1)} {
		if _, err := c.wrap(bad, alice); err == nil {
			t.Errorf("wrap(%q) accepted", bad)
		}
	}
}

// scripted is a hand-written Streamable HTTP upstream that issues session
// id "upstream-sid-1", records requests, answers notifications 202, GET
// with one SSE event, and DELETE 200.
func scripted(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	up := httptest.NewServer(rec.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "upstream=secret")
		w.Header().Set("X-Upstream-Internal", "yes")
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			fmt.Fprintf(w, "id: 7\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\",\"params\":{\"last\":%q}}\n\n", r.Header.Get("Last-Event-ID"))
			return
		case http.MethodDelete:
			w.WriteHeader(http.StatusOK)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Mcp-Session-Id", "upstream-sid-1")
		if !strings.Contains(string(body), `"id"`) {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
	})))
	t.Cleanup(up.Close)
	return up, rec
}

// TestSessionWrapping: the client sees only a wrapped id; another
// principal's, a forged, or another route's id gets 404 and is never
// forwarded; a second Proxy with the same key serves the session (no sticky
// sessions); DELETE, GET with Last-Event-ID and notifications are forwarded.
func TestSessionWrapping(t *testing.T) {
	checkLeaks(t)
	up, rec := scripted(t)
	gw1 := front(t, newProxy(t, Options{URL: up.URL}))
	gw2 := front(t, newProxy(t, Options{URL: up.URL}))
	gwOtherRoute := front(t, newProxy(t, Options{URL: up.URL, RouteID: "/mcp/other"}))

	resp, body := rawDo(t, http.MethodPost, gw1.URL, "alice", initBody, nil)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" || strings.Contains(sid, "upstream-sid-1") {
		t.Fatalf("initialize: %d sid %q body %s", resp.StatusCode, sid, body)
	}
	if resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("X-Upstream-Internal") != "" {
		t.Errorf("upstream-only headers reached the client: %v", resp.Header)
	}
	forged := "dXBzdHJlYW0tc2lkLTE." + strings.Repeat("A", 43)
	tests := []struct {
		name   string
		url    string
		sub    string
		method string
		sid    string
		hdr    map[string]string
		body   string
		status int
	}{
		{"owner", gw1.URL, "alice", http.MethodPost, sid, nil, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, 200},
		{"other replica", gw2.URL, "alice", http.MethodPost, sid, nil, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, 200},
		{"notification 202", gw2.URL, "alice", http.MethodPost, sid, nil, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, 202},
		{"GET with Last-Event-ID", gw1.URL, "alice", http.MethodGet, sid, map[string]string{"Last-Event-ID": "6"}, "", 200},
		{"other principal", gw1.URL, "bob", http.MethodPost, sid, nil, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, 404},
		{"other principal GET", gw1.URL, "bob", http.MethodGet, sid, nil, "", 404},
		{"other principal DELETE", gw1.URL, "bob", http.MethodDelete, sid, nil, "", 404},
		{"forged", gw1.URL, "alice", http.MethodPost, forged, nil, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, 404},
		{"raw upstream id", gw1.URL, "alice", http.MethodPost, "upstream-sid-1", nil, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, 404},
		{"other route", gwOtherRoute.URL, "alice", http.MethodPost, sid, nil, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, 404},
		{"DELETE", gw2.URL, "alice", http.MethodDelete, sid, nil, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.all())
			hdr := map[string]string{"Mcp-Session-Id": tt.sid}
			for k, v := range tt.hdr {
				hdr[k] = v
			}
			resp, body := rawDo(t, tt.method, tt.url, tt.sub, tt.body, hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			got := rec.all()
			if tt.status == 404 {
				if len(got) != before {
					t.Fatal("a refused session id reached the upstream")
				}
				if _, code, _ := rpcErr(t, body); code != mcpwire.CodeSessionNotFound {
					t.Errorf("code %d", code)
				}
				return
			}
			last := got[len(got)-1]
			if last.method != tt.method || last.header.Get("Mcp-Session-Id") != "upstream-sid-1" {
				t.Errorf("upstream got %s with session %q", last.method, last.header.Get("Mcp-Session-Id"))
			}
			if tt.method == http.MethodGet {
				if last.header.Get("Last-Event-Id") != "6" || !strings.Contains(body, `"last":"6"`) || !strings.HasPrefix(body, "id: 7\n") {
					t.Errorf("GET stream: header %q body %q", last.header.Get("Last-Event-Id"), body)
				}
			}
			if tt.status == 202 && body != "" {
				t.Errorf("202 with body %q", body)
			}
		})
	}
}
