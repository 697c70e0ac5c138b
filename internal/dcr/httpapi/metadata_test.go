package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// fakeBridge records which bridge endpoint was called.
type fakeBridge struct{ calls atomic.Value }

func (b *fakeBridge) Authorize(w http.ResponseWriter, _ *http.Request, _ cimd.Throttle) {
	b.calls.Store("authorize")
	w.WriteHeader(http.StatusFound)
}

func (b *fakeBridge) Token(w http.ResponseWriter, _ *http.Request, _ cimd.Throttle) {
	b.calls.Store("token")
	w.WriteHeader(http.StatusTeapot)
}

var _ httpapi.Bridge = (*fakeBridge)(nil)

func TestMetadataGolden(t *testing.T) {
	tests := []struct {
		name   string
		bridge bool
		file   string
	}{
		{"Cognito endpoints without a bridge", false, "metadata_nobridge.golden.json"},
		{"bridge endpoints and CIMD with a bridge", true, "metadata_bridge.golden.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, func(o *httpapi.Options) {
				o.Scopes = func(context.Context) ([]string, error) {
					return []string{"openid", "offline_access", "mcp/tools", "mcp/admin"}, nil
				}
				if tt.bridge {
					o.Bridge = &fakeBridge{}
				}
			})
			var first string
			for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
				r := e.do(t, "GET", path, "")
				if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" ||
					r.header.Get("Content-Type") != "application/json" {
					t.Fatalf("%s: %d %v", path, r.status, r.header)
				}
				if first == "" {
					first = r.raw
				} else if r.raw != first {
					t.Fatalf("%s differs from the RFC 8414 document", path)
				}
			}
			testkit.Golden(t, filepath.Join("testdata", tt.file), []byte(first))
		})
	}
}

// TestMetadataFollowsPolicy proves grant_types_supported lists
// client_credentials exactly when registration allows it, that PKCE is
// advertised as S256 only, and that RFC 9207 iss support is not claimed
// (Cognito's authorization responses have no iss).
func TestMetadataFollowsPolicy(t *testing.T) {
	for _, allow := range []bool{false, true} {
		e := newEnv(t, nil, func(o *httpapi.Options) { o.AllowClientCredentials = allow; o.Bridge = &fakeBridge{} })
		var md oauthmeta.AuthorizationServerMetadata
		if err := json.Unmarshal([]byte(e.do(t, "GET", "/.well-known/oauth-authorization-server", "").raw), &md); err != nil {
			t.Fatal(err)
		}
		want := []string{"authorization_code", "refresh_token"}
		if allow {
			want = append(want, "client_credentials")
		}
		if !slices.Equal(md.GrantTypesSupported, want) || !slices.Equal(md.CodeChallengeMethodsSupported, []string{"S256"}) ||
			md.AuthorizationResponseIssParameter {
			t.Errorf("allow_client_credentials=%v: grant types %v, PKCE %v, iss %v", allow, md.GrantTypesSupported,
				md.CodeChallengeMethodsSupported, md.AuthorizationResponseIssParameter)
		}
	}
}

func TestMetadataPathsAndMethods(t *testing.T) {
	b := &fakeBridge{}
	e := newEnv(t, nil, func(o *httpapi.Options) { o.PublicURL = "https://api.example.com/dcr/"; o.Bridge = b })
	for _, path := range []string{
		"/.well-known/oauth-authorization-server/dcr", // RFC 8414 §3.1 path-inserted
		"/.well-known/openid-configuration/dcr",       // MCP's path-inserted OIDC variant
		"/dcr/.well-known/openid-configuration",       // OIDC Discovery §4 appended
		"/dcr/.well-known/oauth-authorization-server",
		"/.well-known/oauth-authorization-server",
	} {
		r := e.do(t, "GET", path, "")
		if r.status != 200 || r.str("issuer") != "https://api.example.com/dcr" ||
			r.str("registration_endpoint") != "https://api.example.com/dcr/register" ||
			r.str("authorization_endpoint") != "https://api.example.com/dcr/authorize" {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
	}
	// routes answer with and without the base path (API Gateway may strip it)
	for _, path := range []string{"/dcr/register", "/register"} {
		if r := e.do(t, "POST", path, claudeCode); r.status != 201 {
			t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
		}
	}
	if r := e.do(t, "GET", "/dcr/authorize?client_id=x", ""); r.status != http.StatusFound || b.calls.Load() != "authorize" {
		t.Fatalf("authorize not bridged: %d", r.status)
	}
	if r := e.do(t, "POST", "/dcr/token", ""); r.status != http.StatusTeapot || b.calls.Load() != "token" {
		t.Fatalf("token not bridged: %d", r.status)
	}
	r := e.do(t, "OPTIONS", "/.well-known/oauth-authorization-server/dcr", "")
	if r.status != 204 || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "MCP-Protocol-Version") {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	if r := e.do(t, "HEAD", "/dcr/.well-known/openid-configuration", ""); r.status != 200 || r.raw != "" {
		t.Fatalf("HEAD: %d %q", r.status, r.raw)
	}
	wantError(t, e.do(t, "POST", "/.well-known/openid-configuration/dcr", "{}"), 405, "invalid_request")
}

func TestMetadataScopesCache(t *testing.T) {
	var calls atomic.Int32
	fail := atomic.Bool{}
	e := newEnv(t, nil, func(o *httpapi.Options) {
		o.ScopesTTL = time.Minute
		o.Scopes = func(context.Context) ([]string, error) {
			calls.Add(1)
			if fail.Load() {
				return nil, errors.New("cognito down")
			}
			return []string{"openid", "mcp/tools"}, nil
		}
	})
	scopes := func() string {
		r := e.do(t, "GET", "/.well-known/oauth-authorization-server", "")
		if r.status != 200 {
			t.Fatalf("metadata: %d", r.status)
		}
		list, _ := r.body["scopes_supported"].([]any)
		var out []string
		for _, s := range list {
			out = append(out, s.(string))
		}
		return strings.Join(out, " ")
	}
	if got := scopes(); got != "openid mcp/tools" || calls.Load() != 1 {
		t.Fatalf("first: %q after %d calls", got, calls.Load())
	}
	if scopes(); calls.Load() != 1 {
		t.Fatalf("cached answer refetched: %d calls", calls.Load())
	}
	fail.Store(true)
	e.clock.Advance(2 * time.Minute)
	if got := scopes(); got != "openid mcp/tools" || calls.Load() != 2 {
		t.Fatalf("a failed refresh must keep the last answer: %q after %d calls", got, calls.Load())
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	svc, err := dcr.NewService(dcrtest.NewFakeApps(), dcrtest.NewMemStore(), dcr.DefaultPolicy(), dcr.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*httpapi.Options)
	}{
		{"no service", func(o *httpapi.Options) { o.Service = nil }},
		{"relative public URL", func(o *httpapi.Options) { o.PublicURL = "/dcr" }},
		{"public URL with query", func(o *httpapi.Options) { o.PublicURL = publicURL + "?a=b" }},
		{"no Cognito domain", func(o *httpapi.Options) { o.CognitoDomain = "" }},
		{"no JWKS URI", func(o *httpapi.Options) { o.JWKSURI = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := httpapi.Options{Service: svc, PublicURL: publicURL, CognitoDomain: cognitoDomain, JWKSURI: jwksURI}
			if _, err := httpapi.New(o); err != nil {
				t.Fatalf("valid options refused: %v", err)
			}
			tt.mutate(&o)
			if _, err := httpapi.New(o); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
