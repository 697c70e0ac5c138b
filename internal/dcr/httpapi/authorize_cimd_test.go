package httpapi_test

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
)

// newDocHost is an https server on loopback that serves, at every path, a
// client metadata document shaped like Claude Code's (portless loopback
// redirect URIs) with its own URL as client_id: anyone hosting documents
// can mint as many client ids as they like.
func newDocHost(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"client_id":"https://` + r.Host + r.URL.Path + `","client_name":"Claude Code",` +
			`"redirect_uris":["http://localhost/callback","http://127.0.0.1/callback"],` +
			`"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// withDocBridge mounts the real CIMD bridge over the env's service, with
// a fetcher that trusts host (loopback test mode).
func withDocBridge(t *testing.T, o *httpapi.Options, host *httptest.Server) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(host.Certificate())
	b, err := cimd.NewBridge(cimd.BridgeOptions{Registrar: o.Service.(*dcr.Service), CognitoDomain: cognitoDomain,
		Fetcher: cimd.NewFetcher(cimd.FetcherOptions{InsecureAllowLoopback: true, RootCAs: roots, Now: o.Now})})
	if err != nil {
		t.Fatal(err)
	}
	o.Bridge = b
}

// TestAuthorizeCIMDRateLimit proves every Cognito write that /authorize
// and /token cause with metadata documents spends the per-source bucket,
// and nothing else does: a burst of distinct documents from one source
// creates app clients until the bucket is empty, then is redirected back
// with temporarily_unavailable and state and creates none (nor does
// /token); a known document needs no token; another source has its own
// bucket; and a listed port used again over the limit still goes to
// Cognito, without refreshing its use (no write), while a source with
// tokens does refresh it.
func TestAuthorizeCIMDRateLimit(t *testing.T) {
	host := newDocHost(t)
	e := newEnv(t, nil, func(o *httpapi.Options) {
		o.RateLimit, o.RateBurst, o.TrustForwardedFor = 1, 3, true // one token a minute
		withDocBridge(t, o, host)
	})
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip + ", 10.0.0.1"} }
	a, b := from("203.0.113.1"), from("198.51.100.9")
	doc := func(n string) string { return host.URL + "/clients/" + n + ".json" }
	const registered = "http://localhost/callback" // listed exactly: no callback write
	toCognito := func(clientID, ru string, src []string) string {
		t.Helper()
		r := e.do(t, "GET", authorizePath(clientID, ru), "", src...)
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil || r.status != http.StatusFound || !strings.HasPrefix(loc.String(), cognitoDomain+"/oauth2/authorize?") {
			t.Fatalf("%s %s: %d Location %q, want Cognito", clientID, ru, r.status, r.header.Get("Location"))
		}
		return loc.Query().Get("client_id")
	}
	first := toCognito(doc("1"), registered, a) // tokens 1-3 of source a: three app clients
	toCognito(doc("2"), registered, a)
	toCognito(doc("3"), registered, a)
	if e.apps.Len() != 3 {
		t.Fatalf("%d app clients after three documents", e.apps.Len())
	}

	r := e.do(t, "GET", authorizePath(doc("4"), registered), "", a...)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || r.status != http.StatusFound || !strings.HasPrefix(loc.String(), registered+"?") {
		t.Fatalf("a new document over the limit: %d Location %q", r.status, r.header.Get("Location"))
	}
	if q := loc.Query(); q.Get("error") != "temporarily_unavailable" || q.Get("state") != "st-9" ||
		!strings.Contains(q.Get("error_description"), "retry after 60s") {
		t.Fatalf("a new document over the limit: error parameters %v", q)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {doc("5")}}
	r = e.do(t, http.MethodPost, "/token", form.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, a...)...)
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" ||
		!strings.Contains(r.str("error_description"), "retry after 60s") {
		t.Fatalf("/token with a new document over the limit: %d %s", r.status, r.raw)
	}
	if e.apps.Calls(dcrtest.OpCreate) != 3 || len(e.store.Records()) != 3 {
		t.Fatalf("over the limit: %d app clients created, %d records, want 3", e.apps.Calls(dcrtest.OpCreate), len(e.store.Records()))
	}

	if toCognito(doc("1"), registered, a) != first { // a known document: no token needed
		t.Fatal("a known document was mapped to another app client")
	}
	toCognito(doc("4"), registered, b)                // another source's bucket
	id := toCognito(doc("2"), loopbackPort(50001), b) // b: a new port listed
	e.clock.Advance(2 * time.Minute)                  // each source gains two tokens
	toCognito(doc("6"), registered, a)                // a spends them
	toCognito(doc("7"), registered, a)
	updates, writes := e.apps.Calls(dcrtest.OpUpdate), e.store.Calls(dcrtest.OpUpdate)
	toCognito(doc("2"), loopbackPort(50001), a) // listed, last used two minutes ago: a refresh, over the limit
	if e.apps.Calls(dcrtest.OpUpdate) != updates || e.store.Calls(dcrtest.OpUpdate) != writes {
		t.Fatal("a refresh over the limit wrote to Cognito or the store")
	}
	rec, err := e.store.Get(t.Context(), id)
	if err != nil || len(rec.LoopbackCallbacks) != 1 || !rec.LoopbackCallbacks[0].UsedAt.Equal(e.clock.Now().Add(-2*time.Minute)) {
		t.Fatalf("after a refresh over the limit: %+v %v (want the use of two minutes ago)", rec, err)
	}
	toCognito(doc("2"), loopbackPort(50001), b) // b has tokens: the use is recorded
	if e.apps.Calls(dcrtest.OpUpdate) != updates+1 {
		t.Fatal("a refresh within the limit did not write the app client")
	}
}

func loopbackPort(p int) string { return "http://localhost:" + strconv.Itoa(p) + "/callback" }
