package cimd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mcp-gateway/mcp-gateway/internal/awsconf"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	dcrcognito "github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dynamo"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// motoStack is the bridge over the real registration service, Cognito
// adapter and DynamoDB store, with moto_server as Cognito and DynamoDB.
type motoStack struct {
	api   *cip.Client
	pool  string
	apps  *dcrcognito.Clients
	store *dynamo.Store
	host  *docHost
	clock *testkit.Clock // every Service's
}

func newMotoStack(t *testing.T) *motoStack {
	t.Helper()
	endpoint := testenv.StartMoto(t)
	cfg, err := awsconf.Load(context.Background(), testenv.MotoRegion, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	m := &motoStack{api: cognitotest.NewAPI(t, endpoint), host: newDocHost(t), clock: testkit.NewClock(time.Now())}
	m.pool = cognitotest.NewPool(t, m.api)
	ddb := dynamodb.NewFromConfig(cfg)
	if err := dynamo.CreateTable(context.Background(), ddb, "regs"); err != nil {
		t.Fatal(err)
	}
	m.store = dynamo.New(ddb, "regs")
	if m.apps, err = dcrcognito.New(m.api, dcrcognito.Options{UserPoolID: m.pool}); err != nil {
		t.Fatal(err)
	}
	return m
}

// bridge builds a fresh Service and Bridge over the same Cognito pool and
// table (a new one is what a restart or another Lambda instance sees).
func (m *motoStack) bridge(t *testing.T, limit int) (*dcr.Service, *Bridge) {
	t.Helper()
	p := dcr.DefaultPolicy()
	p.AllowedScopes = []string{"openid", cognitotest.Scope}
	p.LoopbackCallbackLimit = limit
	svc, err := dcr.NewService(m.apps, m.store, p, dcr.ServiceOptions{Now: m.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBridge(BridgeOptions{Fetcher: testFetcher(m.host, nil), Registrar: svc, CognitoDomain: cognito,
		DefaultScopes: []string{cognitotest.Scope}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, b
}

// callbackURLs returns the app client's callback URLs in Cognito, sorted.
func (m *motoStack) callbackURLs(t *testing.T, clientID string) []string {
	t.Helper()
	d, err := m.api.DescribeUserPoolClient(context.Background(), &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(m.pool), ClientId: aws.String(clientID)})
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Clone(d.UserPoolClient.CallbackURLs)
	slices.Sort(out)
	return out
}

// bridged sends a valid authorization request and returns the client id
// Cognito is asked for, checking the redirect_uri and default scope.
func bridged(t *testing.T, b *Bridge, clientID, ru string) string {
	t.Helper()
	loc := location(t, authorizeGET(b, authzQuery(clientID, ru, map[string]string{"scope": ""})))
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host != cognito || q.Get("redirect_uri") != ru || q.Get("scope") != cognitotest.Scope {
		t.Fatalf("Location %s", loc)
	}
	return q.Get("client_id")
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestBridgeAgainstMoto proves, against moto-created app clients, that
// Claude Code's and VS Code's documents (portless loopback redirect URIs)
// work with the ports their clients send: the exact URI is added to the
// mapped app client in Cognito before the redirect, bounded with the least
// recently used evicted (in an order a restarted service continues from
// DynamoDB; uses further apart than dcr.CallbackInUseWindow, so that
// eviction is allowed), without losing any under concurrent requests; and that the
// strict rules refuse requests without PKCE S256 for CIMD and registered
// clients alike, by redirecting the error and leaving Cognito untouched.
func TestBridgeAgainstMoto(t *testing.T) {
	m := newMotoStack(t)
	claude, vscode := m.host.url("/claude-code.json"), m.host.url("/vscode.json")
	_, b := m.bridge(t, 2)

	t.Run("Claude Code ports, bounded, order kept across a restart", func(t *testing.T) {
		var id string
		for _, p := range []int{50001, 50002, 50003} {
			m.clock.Advance(dcr.CallbackInUseWindow + time.Minute)
			id = bridged(t, b, claude, fmt.Sprintf("http://localhost:%d/callback", p))
		}
		base := []string{"http://127.0.0.1/callback", "http://localhost/callback"}
		want := sorted(append(slices.Clone(base), "http://localhost:50002/callback", "http://localhost:50003/callback")...)
		if got := m.callbackURLs(t, id); !slices.Equal(got, want) {
			t.Fatalf("Cognito callbacks %v, want %v", got, want)
		}
		_, restarted := m.bridge(t, 2)
		m.clock.Advance(dcr.CallbackInUseWindow + time.Minute)
		if bridged(t, restarted, claude, "http://127.0.0.1:50004/callback") != id {
			t.Fatal("the restarted service mapped the document to another app client")
		}
		want = sorted(append(slices.Clone(base), "http://localhost:50003/callback", "http://127.0.0.1:50004/callback")...)
		if got := m.callbackURLs(t, id); !slices.Equal(got, want) {
			t.Fatalf("after a restart: Cognito callbacks %v, want %v (50002 is the oldest)", got, want)
		}
	})

	t.Run("VS Code ports, concurrently", func(t *testing.T) {
		_, wide := m.bridge(t, 20)
		id := bridged(t, wide, vscode, "https://vscode.dev/redirect")
		var wg sync.WaitGroup
		want := []string{"http://127.0.0.1/", "https://vscode.dev/redirect"}
		for i := range 6 {
			ru := fmt.Sprintf("http://127.0.0.1:%d/", 33418+i)
			want = append(want, ru)
			wg.Go(func() {
				w := authorizeGET(wide, authzQuery(vscode, ru, nil))
				if loc := w.Header().Get("Location"); w.Code != 302 || !strings.HasPrefix(loc, cognito+"/") {
					t.Errorf("%s: %d %s %s", ru, w.Code, loc, w.Body)
				}
			})
		}
		wg.Wait()
		if got := m.callbackURLs(t, id); !slices.Equal(got, sorted(want...)) {
			rec, _ := m.store.Get(context.Background(), id)
			t.Fatalf("Cognito callbacks %v, want %v; record %+v", got, sorted(want...), rec.LoopbackCallbacks)
		}
	})

	t.Run("strict rules for moto-created clients", func(t *testing.T) {
		svc, _ := m.bridge(t, 20)
		res, err := svc.Register(context.Background(), dcr.ClientMetadata{ClientName: "Inspector",
			RedirectURIs: []string{"http://localhost/oauth/callback"}, TokenEndpointAuthMethod: "none"})
		if err != nil {
			t.Fatal(err)
		}
		dcrID := res.Registration.ClientID
		cimdID := bridged(t, b, claude, "http://localhost:50003/callback")
		before := map[string][]string{dcrID: m.callbackURLs(t, dcrID), cimdID: m.callbackURLs(t, cimdID)}
		for _, c := range []struct{ clientID, ru string }{
			{dcrID, "http://localhost:51000/oauth/callback"},
			{claude, "http://localhost:51001/callback"},
		} {
			for _, mut := range []map[string]string{
				{"code_challenge": "", "code_challenge_method": ""},
				{"code_challenge_method": ""},
				{"code_challenge_method": "plain"},
				{"response_type": "token"},
			} {
				loc := location(t, authorizeGET(b, authzQuery(c.clientID, c.ru, mut)))
				q := loc.Query()
				if loc.Scheme+"://"+loc.Host+loc.Path != c.ru || q.Get("state") != "st-1" ||
					(q.Get("error") != "invalid_request" && q.Get("error") != "unsupported_response_type") {
					t.Fatalf("%v: Location %s, want an error redirect to %s", mut, loc, c.ru)
				}
			}
		}
		for id, want := range before {
			if got := m.callbackURLs(t, id); !slices.Equal(got, want) {
				t.Fatalf("a refused request changed Cognito's callbacks of %s: %v -> %v", id, want, got)
			}
		}
		// The registered client's valid request adds its port too.
		if bridged(t, b, dcrID, "http://localhost:51000/oauth/callback") != dcrID {
			t.Fatal("client id changed")
		}
		if got := m.callbackURLs(t, dcrID); !slices.Contains(got, "http://localhost:51000/oauth/callback") {
			t.Fatalf("Cognito callbacks of the DCR client: %v", got)
		}
	})
}
