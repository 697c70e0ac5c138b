package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

const key = "example-upstream-key-0123456789abcdef"

// signingTransport plays the gateway: it signs every request it sends.
type signingTransport struct{ s *mcpidentity.HMACSigner }

func (t signingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	err := t.s.Sign(r.Header, mcpidentity.Identity{
		Subject: "alice", ClientID: "claude", Issuer: "https://idp.example/",
		Scopes: []string{"mcp:tools"}, Expires: time.Now().Add(time.Hour),
	})
	if err != nil {
		return nil, err
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestWhoamiThroughSDKClient(t *testing.T) {
	testkit.CheckGoroutines(t)
	mux := http.NewServeMux() // safe to register on after the server started
	srv := httptest.NewServer(mux)
	aud := srv.URL + "/mcp"
	v, err := verifierFromEnv(aud, env{"GATEWAY_IDENTITY_KEY": key}.get)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/mcp", newHandler(v))
	s, _ := mcpidentity.NewHMACSigner([]byte(key), aud)

	// Without identity: 401.
	resp, err := http.Post(aud, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned request: %d", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: aud, HTTPClient: &http.Client{Transport: signingTransport{s}}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var got Whoami
	raw, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(raw, &got); err != nil || res.IsError {
		t.Fatalf("result %s: %v", raw, err)
	}
	if got.Subject != "alice" || got.ClientID != "claude" || got.Audience != aud || len(got.Scopes) != 1 {
		t.Errorf("whoami = %+v", got)
	}
	_ = cs.Close()
	srv.Close()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

func TestVerifierFromEnvNeedsAKey(t *testing.T) {
	if _, err := verifierFromEnv("a", env{}.get); err == nil {
		t.Error("no key accepted")
	}
	if _, err := verifierFromEnv("a", env{"GATEWAY_IDENTITY_PUBLIC_KEY": "junk"}.get); err == nil {
		t.Error("junk PEM accepted")
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }
