package devupstream_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/devidp"
	"github.com/mcp-gateway/mcp-gateway/internal/devupstream"
)

const gatewayResource = "http://127.0.0.1:8080/mcp"

// env is a dev authorization server and a demo upstream, each on its own
// loopback httptest server.
type env struct {
	as       *devidp.Server
	issuer   string
	upstream string // the upstream's MCP URL, also its audience
}

// unstarted is a loopback httptest server, closed at cleanup, whose URL is
// known before its handler is set.
func unstarted(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	return srv, "http://" + srv.Listener.Addr().String()
}

// newEnv starts the dev authorization server, which may exchange tokens
// for the upstream, and the upstream, which trusts it and requires
// required.
func newEnv(t *testing.T, required ...string) *env {
	t.Helper()
	asSrv, issuer := unstarted(t)
	upSrv, upBase := unstarted(t)
	e := &env{issuer: issuer, upstream: upBase + "/mcp"}
	as, err := devidp.New(devidp.Options{
		Issuer: issuer, Resources: []string{gatewayResource}, Scopes: []string{"mcp:tools"},
		ExchangeTargets: []string{e.upstream}, ExchangeScopes: []string{"tickets:read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.as = as
	up, err := devupstream.New(devupstream.Options{Issuer: issuer, Audience: e.upstream, RequiredScopes: required})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", up.Handler())
	asSrv.Config.Handler = as.Handler()
	upSrv.Config.Handler = mux
	asSrv.Start()
	upSrv.Start()
	return e
}

// exchange trades alice's gateway token for one for the upstream at the
// dev authorization server's /token, as the gateway's route would.
func (e *env) exchange(t *testing.T, scope string) string {
	t.Helper()
	subject, err := e.as.MintAccessToken("alice", "some-mcp-client", gatewayResource, []string{"mcp:tools"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"audience":           {e.upstream},
	}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	id, secret := e.as.DevClient()
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("exchange: %d %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// bearerTransport adds one Authorization header to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestWhoamiWithExchangedToken(t *testing.T) {
	e := newEnv(t, "tickets:read")
	token := e.exchange(t, "tickets:read")
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint: e.upstream, HTTPClient: &http.Client{Transport: bearerTransport{token}},
	}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var got devupstream.Whoami
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	devID, _ := e.as.DevClient()
	exp, err := time.Parse(time.RFC3339, got.Expires)
	if got.Subject != "alice" || got.Issuer != e.issuer || !slices.Equal(got.Audience, []string{e.upstream}) ||
		got.ClientID != devID || got.Act != devID || !slices.Equal(got.Scopes, []string{"tickets:read"}) ||
		err != nil || time.Until(exp) <= 0 {
		t.Errorf("whoami = %+v", got)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, "tickets:read")
	wrongAud, err := e.as.MintAccessToken("alice", "some-mcp-client", gatewayResource, []string{"tickets:read"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantChal   string // the WWW-Authenticate challenge
	}{
		{"no token", "", http.StatusUnauthorized, `Bearer scope="tickets:read"`},
		{"the client's own token (another audience)", "Bearer " + wrongAud, http.StatusUnauthorized,
			`Bearer scope="tickets:read", error="invalid_token", error_description="invalid token: claim 'aud' does not name this resource"`},
		{"garbage", "Bearer abc.def.ghi", http.StatusUnauthorized,
			`Bearer scope="tickets:read", error="invalid_token", error_description="invalid token: payload is not base64url"`},
		{"exchanged without the required scope", "Bearer " + e.exchange(t, "mcp:tools"), http.StatusForbidden,
			`Bearer scope="tickets:read", error="insufficient_scope", error_description="the token lacks a scope this operation requires"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}`
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.upstream, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != tt.wantStatus || ch != tt.wantChal {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, ch, tt.wantStatus, tt.wantChal)
			}
		})
	}
	// The go-sdk client gets no session with the wrong audience.
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	if cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint: e.upstream, HTTPClient: &http.Client{Transport: bearerTransport{wrongAud}},
	}, nil); err == nil {
		cs.Close()
		t.Error("connected with a token for another audience")
	}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []devupstream.Options{
		{Audience: "http://127.0.0.1:9100/mcp"},
		{Issuer: "http://127.0.0.1:8081"},
		{Issuer: "not a url", Audience: "x"},
	} {
		if _, err := devupstream.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
