package dcr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mcp-gateway/mcp-gateway/internal/awsconf"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dynamo"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// motoEnv is the registration service over the real adapters and the real
// aws-sdk-go-v2, with moto_server standing in for Cognito and DynamoDB.
type motoEnv struct {
	cip   *cip.Client
	ddb   *dynamodb.Client
	pool  string
	table string
	apps  *cognito.Clients
	store *failingStore
	now   time.Time
}

// failingStore injects a failure into the next Create (compensation test).
type failingStore struct {
	dcr.Store
	failCreate atomic.Bool
}

func (f *failingStore) Create(ctx context.Context, r dcr.Registration) error {
	if f.failCreate.Swap(false) {
		return errors.New("injected store failure")
	}
	return f.Store.Create(ctx, r)
}

func newMotoEnv(t *testing.T) *motoEnv {
	t.Helper()
	endpoint := testenv.StartMoto(t)
	cfg, err := awsconf.Load(context.Background(), testenv.MotoRegion, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	e := &motoEnv{cip: cognitotest.NewAPI(t, endpoint), ddb: dynamodb.NewFromConfig(cfg), table: "regs", now: time.Now()}
	e.pool = cognitotest.NewPool(t, e.cip)
	if err := dynamo.CreateTable(context.Background(), e.ddb, e.table); err != nil {
		t.Fatal(err)
	}
	e.apps, err = cognito.New(e.cip, cognito.Options{UserPoolID: e.pool})
	if err != nil {
		t.Fatal(err)
	}
	e.store = &failingStore{Store: dynamo.New(e.ddb, e.table)}
	return e
}

func (e *motoEnv) service(t *testing.T, mod func(*dcr.Policy)) *dcr.Service {
	t.Helper()
	p := dcr.DefaultPolicy()
	p.AllowedScopes = []string{"openid", cognitotest.Scope}
	if mod != nil {
		mod(&p)
	}
	s, err := dcr.NewService(e.apps, e.store, p, dcr.ServiceOptions{Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *motoEnv) appClients(t *testing.T) map[string]bool {
	t.Helper()
	out, err := e.cip.ListUserPoolClients(context.Background(), &cip.ListUserPoolClientsInput{UserPoolId: aws.String(e.pool), MaxResults: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range out.UserPoolClients {
		ids[aws.ToString(c.ClientId)] = true
	}
	return ids
}

func TestServiceAgainstMoto(t *testing.T) {
	e := newMotoEnv(t)
	svc := e.service(t, nil)
	ctx := context.Background()
	public := dcr.ClientMetadata{ClientName: "Claude Code", RedirectURIs: []string{"http://localhost:51234/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, TokenEndpointAuthMethod: "none"}
	confidential := dcr.ClientMetadata{ClientName: "Server app", RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"},
		TokenEndpointAuthMethod: "client_secret_basic", Scope: cognitotest.Scope}

	pub, err := svc.Register(ctx, public)
	if err != nil || pub.ClientSecret != "" || pub.RegistrationAccessToken == "" {
		t.Fatalf("public: %+v %v", pub, err)
	}
	conf, err := svc.Register(ctx, confidential)
	if err != nil || conf.ClientSecret == "" {
		t.Fatalf("confidential: %+v %v", conf, err)
	}
	desc, err := e.cip.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientId: aws.String(conf.Registration.ClientID)})
	if err != nil || aws.ToString(desc.UserPoolClient.ClientSecret) != conf.ClientSecret {
		t.Fatalf("Cognito does not hold the confidential client: %v", err)
	}

	t.Run("read", func(t *testing.T) {
		got, err := svc.Read(ctx, conf.Registration.ClientID, conf.RegistrationAccessToken)
		if err != nil || got.ClientSecret != conf.ClientSecret {
			t.Fatalf("read: %+v %v", got, err)
		}
		if _, err := svc.Read(ctx, conf.Registration.ClientID, pub.RegistrationAccessToken); err == nil {
			t.Fatal("read with another client's token succeeded")
		}
	})
	t.Run("update", func(t *testing.T) {
		md := public
		md.RedirectURIs = []string{"http://127.0.0.1:40000/callback"}
		got, err := svc.Update(ctx, pub.Registration.ClientID, pub.RegistrationAccessToken, md)
		if err != nil || got.Registration.Version != pub.Registration.Version+1 {
			t.Fatalf("update: %+v %v", got, err)
		}
		d, err := e.cip.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientId: aws.String(pub.Registration.ClientID)})
		if err != nil || strings.Join(d.UserPoolClient.CallbackURLs, ",") != "http://127.0.0.1:40000/callback" {
			t.Fatalf("Cognito callback URLs not updated: %v %v", d.UserPoolClient.CallbackURLs, err)
		}
	})
	t.Run("secrets absent from the table", func(t *testing.T) {
		scan, err := e.ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(e.table)})
		if err != nil {
			t.Fatal(err)
		}
		dump := fmt.Sprintf("%#v", scan.Items)
		for _, secret := range []string{conf.ClientSecret, conf.RegistrationAccessToken, pub.RegistrationAccessToken} {
			if strings.Contains(dump, secret) {
				t.Fatal("a client secret or registration access token is stored in the table")
			}
		}
	})
	t.Run("compensation after a store failure", func(t *testing.T) {
		before := e.appClients(t)
		e.store.failCreate.Store(true)
		md := public
		md.ClientName, md.RedirectURIs = "doomed", []string{"http://localhost:1/cb"}
		if _, err := svc.Register(ctx, md); err == nil {
			t.Fatal("registration succeeded despite the store failure")
		}
		if after := e.appClients(t); len(after) != len(before) {
			t.Fatalf("orphaned Cognito app client: %d before, %d after", len(before), len(after))
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := svc.Delete(ctx, conf.Registration.ClientID, conf.RegistrationAccessToken); err != nil {
			t.Fatal(err)
		}
		if e.appClients(t)[conf.Registration.ClientID] {
			t.Fatal("Cognito app client survived the delete")
		}
		if _, err := e.store.Get(ctx, conf.Registration.ClientID); !errors.Is(err, dcr.ErrNotFound) {
			t.Fatalf("record survived the delete: %v", err)
		}
	})
	t.Run("gc", func(t *testing.T) {
		e.now = e.now.Add(dcr.DefaultRegistrationTTL + time.Hour)
		dry, err := svc.GC(ctx, true)
		if err != nil || len(dry.Expired) != 1 || len(dry.Deleted) != 0 || !e.appClients(t)[pub.Registration.ClientID] {
			t.Fatalf("dry run: %+v %v", dry, err)
		}
		rep, err := svc.GC(ctx, false)
		if err != nil || len(rep.Deleted) != 1 || e.appClients(t)[pub.Registration.ClientID] {
			t.Fatalf("gc: %+v %v", rep, err)
		}
	})
}

func TestCeilingAgainstMoto(t *testing.T) {
	e := newMotoEnv(t)
	svc := e.service(t, func(p *dcr.Policy) { p.MaxRegistrations = 2; p.ReusePublicRegistrations = false })
	ctx := context.Background()
	for i := range 3 {
		md := dcr.ClientMetadata{ClientName: fmt.Sprint("c", i), RedirectURIs: []string{fmt.Sprintf("http://localhost:%d/cb", 1000+i)}}
		_, err := svc.Register(ctx, md)
		if i < 2 && err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
		if i == 2 && (err == nil || !strings.Contains(err.Error(), "temporarily_unavailable")) {
			t.Fatalf("registration past the ceiling: %v", err)
		}
	}
	if n := len(e.appClients(t)); n != 2 {
		t.Fatalf("%d app clients in Cognito, want the ceiling of 2", n)
	}
}

func TestRateLimitAgainstMoto(t *testing.T) {
	e := newMotoEnv(t)
	h, err := httpapi.New(httpapi.Options{Service: e.service(t, nil), PublicURL: "http://127.0.0.1:1",
		CognitoDomain: "http://127.0.0.1:2", JWKSURI: "http://127.0.0.1:3/jwks", RateLimit: 2, RateBurst: 2})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var codes []int
	for i := range 3 {
		body := fmt.Sprintf(`{"redirect_uris":["http://localhost:%d/cb"]}`, 2000+i)
		resp, err := http.Post(srv.URL+"/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if fmt.Sprint(codes) != "[201 201 429]" {
		t.Fatalf("statuses %v, want [201 201 429]", codes)
	}
	if n := len(e.appClients(t)); n != 2 {
		t.Fatalf("%d app clients, want 2 (the limited request must not reach Cognito)", n)
	}
}
