package mcpidentity

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestMiddlewareOverHTTP(t *testing.T) {
	testkit.CheckGoroutines(t)
	// One instant for signing and verifying: the identities' validity does
	// not depend on how long the run takes.
	now := time.Now()
	v, _ := NewHMACVerifier(testKey, testAudience, clockAt(now))
	srv := httptest.NewServer(Middleware(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := FromContext(r.Context())
		if id == nil {
			t.Error("no identity in context")
			return
		}
		_, _ = io.WriteString(w, id.Subject+"|"+id.ClientID+"|"+strings.Join(id.Scopes, ","))
	})))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	s, _ := NewHMACSigner(testKey, testAudience)
	fresh := Identity{Subject: "alice", Issuer: "https://idp.example/", Issued: now, Expires: now.Add(time.Minute)}
	tests := []struct {
		name     string
		id       *Identity // nil: no identity
		mutate   func(h http.Header)
		wantCode int
		wantBody string
	}{
		{name: "valid, no client or scopes", id: &fresh, wantCode: 200, wantBody: "alice||"},
		{name: "valid with scopes", id: &Identity{Subject: "bob", ClientID: "c", Issuer: "i", Scopes: []string{"a", "b"}, Issued: now, Expires: now.Add(time.Minute)},
			wantCode: 200, wantBody: "bob|c|a,b"},
		{name: "missing", wantCode: 401, wantBody: "missing gateway identity\n"},
		{name: "forged", id: &fresh, mutate: func(h http.Header) { h.Set(HeaderSubject, "admin") }, wantCode: 401, wantBody: "invalid gateway identity\n"},
		{name: "expired", id: &Identity{Subject: "a", Issuer: "i", Issued: now.Add(-10 * time.Minute), Expires: now.Add(-9 * time.Minute)},
			wantCode: 401, wantBody: "expired gateway identity\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, strings.NewReader("{}"))
			if tt.id != nil {
				if err := s.Sign(req.Header, *tt.id); err != nil {
					t.Fatal(err)
				}
			}
			if tt.mutate != nil {
				tt.mutate(req.Header)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode != tt.wantCode || string(body) != tt.wantBody {
				t.Errorf("got %d %q; want %d %q", resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestFromContextEmpty(t *testing.T) {
	if FromContext(context.Background()) != nil {
		t.Error("identity from empty context")
	}
}
