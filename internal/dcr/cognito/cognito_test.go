package cognito

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const pool = "us-east-1_TESTPOOL"

// golden compares v, as indented JSON, with testdata/<name>.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	testkit.GoldenJSON(t, filepath.Join("testdata", name+".json"), v)
}

func newClients(t *testing.T, f *fakeAPI, o Options) *Clients {
	t.Helper()
	if o.UserPoolID == "" {
		o.UserPoolID = pool
	}
	c, err := New(f, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	publicSpec = dcr.AppClientSpec{
		Name:          "Claude Code",
		CallbackURLs:  []string{"http://localhost:53100/callback", "https://claude.ai/api/mcp/auth_callback"},
		Scopes:        []string{"mcp/tools"},
		Flows:         []string{"code"},
		RefreshTokens: true,
	}
	confidentialSpec = dcr.AppClientSpec{
		Name:           "server app",
		CallbackURLs:   []string{"https://app.example.com/cb"},
		Scopes:         []string{"mcp/tools", "mcp/admin"},
		GenerateSecret: true,
		Flows:          []string{"code"},
	}
	machineSpec = dcr.AppClientSpec{
		Name:           "batch",
		Scopes:         []string{"mcp/tools"},
		GenerateSecret: true,
		Flows:          []string{"client_credentials"},
	}
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		api     API
		o       Options
		wantErr string
		check   func(t *testing.T, c *Clients)
	}{
		{name: "nil api", o: Options{UserPoolID: pool}, wantErr: "nil API"},
		{name: "no pool", api: &fakeAPI{}, wantErr: "user pool id is required"},
		{name: "defaults", api: &fakeAPI{}, o: Options{UserPoolID: pool}, check: func(t *testing.T, c *Clients) {
			o := c.opts
			if o.AccessTokenValidity != time.Hour || o.IDTokenValidity != time.Hour || o.RefreshTokenValidity != 30*24*time.Hour {
				t.Errorf("validities = %v %v %v", o.AccessTokenValidity, o.IDTokenValidity, o.RefreshTokenValidity)
			}
			if strings.Join(o.SupportedIdentityProviders, ",") != "COGNITO" {
				t.Errorf("SupportedIdentityProviders = %v", o.SupportedIdentityProviders)
			}
		}},
		{name: "fractional minutes", api: &fakeAPI{}, o: Options{UserPoolID: pool, AccessTokenValidity: 90 * time.Second}, wantErr: "whole number of minutes"},
		{name: "access too long", api: &fakeAPI{}, o: Options{UserPoolID: pool, AccessTokenValidity: 25 * time.Hour}, wantErr: "access token validity 25h0m0s is outside"},
		{name: "id too short", api: &fakeAPI{}, o: Options{UserPoolID: pool, IDTokenValidity: time.Minute}, wantErr: "ID token validity"},
		{name: "refresh too short", api: &fakeAPI{}, o: Options{UserPoolID: pool, RefreshTokenValidity: 30 * time.Minute}, wantErr: "refresh token validity"},
		{name: "rotation grace too long", api: &fakeAPI{}, o: Options{UserPoolID: pool, RefreshTokenRotation: true, RefreshTokenRotationGrace: 61 * time.Second}, wantErr: "refresh token rotation grace"},
		{name: "every problem at once", api: &fakeAPI{}, o: Options{UserPoolID: pool, AccessTokenValidity: time.Second, RefreshTokenValidity: time.Second}, wantErr: "refresh token validity"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.api, tc.o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// TestCreate pins every field of CreateUserPoolClient (golden files) and
// checks the security-relevant ones explicitly.
func TestCreate(t *testing.T) {
	tests := []struct {
		name       string
		spec       dcr.AppClientSpec
		o          Options
		wantSecret string
		wantAuth   string
	}{
		{name: "public", spec: publicSpec, wantAuth: "ALLOW_REFRESH_TOKEN_AUTH"},
		{name: "confidential", spec: confidentialSpec, wantSecret: "secret-of-client",
			o: Options{SupportedIdentityProviders: []string{"COGNITO", "CorpOkta"}, AccessTokenValidity: 15 * time.Minute,
				IDTokenValidity: 10 * time.Minute, RefreshTokenValidity: 7 * 24 * time.Hour},
			wantAuth: "ALLOW_REFRESH_TOKEN_AUTH"},
		{name: "client_credentials", spec: machineSpec, wantSecret: "secret-of-client", wantAuth: "ALLOW_REFRESH_TOKEN_AUTH"},
		// Cognito refuses rotation together with ALLOW_REFRESH_TOKEN_AUTH.
		{name: "rotation", spec: publicSpec, o: Options{RefreshTokenRotation: true, RefreshTokenRotationGrace: 10 * time.Second},
			wantAuth: "ALLOW_USER_SRP_AUTH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAPI{}
			c := newClients(t, f, tc.o)
			id, secret, err := c.Create(context.Background(), tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if id != "client1" || secret != tc.wantSecret {
				t.Errorf("Create = %q, %q; want client1, %q", id, secret, tc.wantSecret)
			}
			if len(f.creates) != 1 {
				t.Fatalf("%d CreateUserPoolClient calls", len(f.creates))
			}
			in := f.creates[0]
			if aws.ToString(in.UserPoolId) != pool || !in.AllowedOAuthFlowsUserPoolClient ||
				!aws.ToBool(in.EnableTokenRevocation) || in.PreventUserExistenceErrors != types.PreventUserExistenceErrorTypesEnabled {
				t.Errorf("baseline not applied: %+v", in)
			}
			if in.ExplicitAuthFlows == nil {
				t.Error("ExplicitAuthFlows omitted: Cognito would enable SRP password sign-in")
			}
			var auth []string
			for _, a := range in.ExplicitAuthFlows {
				auth = append(auth, string(a))
			}
			if strings.Join(auth, ",") != tc.wantAuth {
				t.Errorf("ExplicitAuthFlows = %v, want %q", auth, tc.wantAuth)
			}
			if rot := in.RefreshTokenRotation; tc.o.RefreshTokenRotation != (rot != nil && rot.Feature == types.FeatureTypeEnabled) ||
				(rot != nil && aws.ToInt32(rot.RetryGracePeriodSeconds) != int32(tc.o.RefreshTokenRotationGrace/time.Second)) {
				t.Errorf("RefreshTokenRotation = %+v, want rotation %v with grace %v", rot, tc.o.RefreshTokenRotation, tc.o.RefreshTokenRotationGrace)
			}
			if in.GenerateSecret != tc.spec.GenerateSecret {
				t.Errorf("GenerateSecret = %v", in.GenerateSecret)
			}
			if len(f.brandings) != 0 {
				t.Errorf("branding called while disabled")
			}
			golden(t, "create_"+tc.name, in)
		})
	}
}

func TestCreateRejectsFlows(t *testing.T) {
	for _, flows := range [][]string{nil, {"implicit"}, {"code", "password"}} {
		f := &fakeAPI{}
		c := newClients(t, f, Options{})
		spec := publicSpec
		spec.Flows = flows
		if _, _, err := c.Create(context.Background(), spec); err == nil {
			t.Errorf("flows %v accepted", flows)
		}
		if err := c.Update(context.Background(), "x", spec); err == nil {
			t.Errorf("update with flows %v accepted", flows)
		}
		if len(f.creates) != 0 || len(f.updates) != 0 {
			t.Errorf("flows %v reached Cognito", flows)
		}
	}
}

func TestCreateBranding(t *testing.T) {
	tests := []struct {
		name        string
		brandErr    error
		deleteErr   error
		wantErr     string
		wantDeletes int
	}{
		{name: "ok"},
		{name: "style already exists", brandErr: &types.ManagedLoginBrandingExistsException{Message: aws.String("exists")}},
		{name: "failure deletes the client", brandErr: errors.New("boom"), wantErr: "boom", wantDeletes: 1},
		{name: "failure and delete failure report the orphan", brandErr: errors.New("boom"),
			deleteErr: errors.New("delete down"), wantErr: "client1 left behind", wantDeletes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAPI{brandErr: tc.brandErr, deleteErr: tc.deleteErr}
			c := newClients(t, f, Options{ManagedLoginBranding: true})
			id, _, err := c.Create(context.Background(), publicSpec)
			if len(f.brandings) != 1 {
				t.Fatalf("%d branding calls", len(f.brandings))
			}
			b := f.brandings[0]
			if aws.ToString(b.ClientId) != "client1" || aws.ToString(b.UserPoolId) != pool || !b.UseCognitoProvidedValues {
				t.Errorf("branding input = %+v", b)
			}
			if len(f.deletes) != tc.wantDeletes {
				t.Fatalf("%d deletes, want %d", len(f.deletes), tc.wantDeletes)
			}
			if tc.wantDeletes > 0 && aws.ToString(f.deletes[0].ClientId) != "client1" {
				t.Errorf("deleted %q", aws.ToString(f.deletes[0].ClientId))
			}
			if tc.wantErr == "" {
				if err != nil || id != "client1" {
					t.Fatalf("Create = %q, %v", id, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || id != "" {
				t.Fatalf("Create = %q, %v; want error %q", id, err, tc.wantErr)
			}
		})
	}
}

// TestUpdate proves Update sends the full configuration (Cognito resets
// omitted fields), pinned by a golden file.
func TestUpdate(t *testing.T) {
	f := &fakeAPI{}
	c := newClients(t, f, Options{SupportedIdentityProviders: []string{"COGNITO", "CorpEntra"}})
	if err := c.Update(context.Background(), "client9", publicSpec); err != nil {
		t.Fatal(err)
	}
	if len(f.updates) != 1 {
		t.Fatalf("%d updates", len(f.updates))
	}
	in := f.updates[0]
	if aws.ToString(in.ClientId) != "client9" || in.ExplicitAuthFlows == nil || in.TokenValidityUnits == nil ||
		len(in.SupportedIdentityProviders) != 2 || !in.AllowedOAuthFlowsUserPoolClient {
		t.Errorf("partial update: %+v", in)
	}
	golden(t, "update_public", in)

	f.updateErr = &types.ResourceNotFoundException{Message: aws.String("gone")}
	err := c.Update(context.Background(), "client9", publicSpec)
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "update app client client9") {
		t.Errorf("err = %v", err)
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{name: "ok"},
		{name: "missing is success", err: &types.ResourceNotFoundException{Message: aws.String("no")}},
		{name: "other errors surface", err: errors.New("denied"), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAPI{deleteErr: tc.err}
			err := newClients(t, f, Options{}).Delete(context.Background(), "c1")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if aws.ToString(f.deletes[0].ClientId) != "c1" || aws.ToString(f.deletes[0].UserPoolId) != pool {
				t.Errorf("input = %+v", f.deletes[0])
			}
		})
	}
}

func TestSecret(t *testing.T) {
	f := &fakeAPI{secret: "s3cr3t"}
	c := newClients(t, f, Options{})
	if s, err := c.Secret(context.Background(), "c1"); err != nil || s != "s3cr3t" {
		t.Fatalf("Secret = %q, %v", s, err)
	}
	if aws.ToString(f.describes[0].ClientId) != "c1" {
		t.Errorf("described %q", aws.ToString(f.describes[0].ClientId))
	}
	f.secret = ""
	if s, err := c.Secret(context.Background(), "c1"); err != nil || s != "" {
		t.Fatalf("public Secret = %q, %v", s, err)
	}
	f.describeErr = &types.ResourceNotFoundException{Message: aws.String("no")}
	if _, err := c.Secret(context.Background(), "c1"); err == nil {
		t.Fatal("missing client: no error")
	}
}

func TestThrottling(t *testing.T) {
	tests := []struct {
		err       error
		throttled bool
	}{
		{&types.TooManyRequestsException{Message: aws.String("slow down")}, true},
		{&types.LimitExceededException{Message: aws.String("quota")}, true},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{&types.InvalidParameterException{Message: aws.String("bad")}, false},
		{errors.New("network"), false},
	}
	for _, tc := range tests {
		f := &fakeAPI{createErr: tc.err}
		_, _, err := newClients(t, f, Options{}).Create(context.Background(), publicSpec)
		if errors.Is(err, ErrThrottled) != tc.throttled {
			t.Errorf("%v: throttled = %v, want %v", tc.err, !tc.throttled, tc.throttled)
		}
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), "create app client") {
			t.Errorf("%v: context or cause lost: %v", tc.err, err)
		}
	}
}

func TestResourceServerScopes(t *testing.T) {
	rs := func(id string, scopes ...string) types.ResourceServerType {
		r := types.ResourceServerType{Identifier: aws.String(id)}
		for _, s := range scopes {
			r.Scopes = append(r.Scopes, types.ResourceServerScopeType{ScopeName: aws.String(s)})
		}
		return r
	}
	f := &fakeAPI{pages: [][]types.ResourceServerType{
		{rs("mcp", "tools", "admin")},
		{rs("https://api.example.com", "read"), rs("empty")},
		{rs("mcp", "tools")},
	}}
	got, err := newClients(t, f, Options{}).ResourceServerScopes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := "https://api.example.com/read,mcp/admin,mcp/tools"
	if strings.Join(got, ",") != want {
		t.Errorf("scopes = %v, want %s", got, want)
	}
	if len(f.lists) != 3 || aws.ToInt32(f.lists[0].MaxResults) != listPageSize || aws.ToString(f.lists[0].UserPoolId) != pool {
		t.Errorf("list calls = %d, first %+v", len(f.lists), f.lists[0])
	}
}
