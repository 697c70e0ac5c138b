package dcr_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// TestRegistrationOutcome proves the metric labels of each way a
// registration ends, from the errors the Service really returns (the
// reason is attached where the failure is known) and the HTTP layer's own
// refusals.
func TestRegistrationOutcome(t *testing.T) {
	adapterErr := &bearer.Error{Status: http.StatusServiceUnavailable, Code: bearer.CodeUnavailable, Description: "Cognito is throttling"}
	tests := []struct {
		name       string
		policy     func(*dcr.Policy)
		inject     func(f *fixture)
		before     []dcr.ClientMetadata // registered first
		md         dcr.ClientMetadata
		err        error // an HTTP-layer error instead of a registration
		wantResult string
		wantReason string
	}{
		{name: "created", md: publicMD(), wantResult: dcr.ResultCreated, wantReason: dcr.ReasonNone},
		{name: "reused", before: []dcr.ClientMetadata{publicMD()}, md: publicMD(), wantResult: dcr.ResultReused, wantReason: dcr.ReasonNone},
		{name: "bad redirect URI", md: publicMD("http://evil.example/cb"),
			wantResult: dcr.ResultRefused, wantReason: dcr.CodeInvalidRedirectURI},
		{name: "bad metadata", md: dcr.ClientMetadata{RedirectURIs: []string{claudeCB}, GrantTypes: []string{"implicit"}},
			wantResult: dcr.ResultRefused, wantReason: dcr.CodeInvalidClientMetadata},
		{name: "ceiling", policy: func(p *dcr.Policy) { p.MaxRegistrations, p.AppClientQuota = 1, 2 },
			before: []dcr.ClientMetadata{publicMD(vscodeCB)}, md: confidentialMD(), wantResult: dcr.ResultRefused, wantReason: dcr.ReasonQuota},
		{name: "store count", inject: func(f *fixture) { f.store.FailNext(dcrtest.OpCount, errBoom) },
			md: publicMD(), wantResult: dcr.ResultError, wantReason: dcr.ReasonStore},
		{name: "store find", inject: func(f *fixture) { f.store.FailNext(dcrtest.OpFind, errBoom) },
			md: publicMD(), wantResult: dcr.ResultError, wantReason: dcr.ReasonStore},
		{name: "store write", inject: func(f *fixture) { f.store.FailNextCreate(errBoom) },
			md: publicMD(), wantResult: dcr.ResultError, wantReason: dcr.ReasonStore},
		{name: "cognito", inject: func(f *fixture) { f.apps.FailNextCreate(errBoom) },
			md: publicMD(), wantResult: dcr.ResultError, wantReason: dcr.ReasonCognito},
		{name: "cognito answer kept", inject: func(f *fixture) { f.apps.FailNextCreate(fmt.Errorf("throttled: %w", adapterErr)) },
			md: publicMD(), wantResult: dcr.ResultError, wantReason: dcr.ReasonCognito},
		{name: "rate limited (HTTP layer)", err: &bearer.Error{Status: http.StatusTooManyRequests, Code: "slow_down"},
			wantResult: dcr.ResultRefused, wantReason: dcr.ReasonRateLimited},
		{name: "initial access token (HTTP layer)", err: bearer.ErrInvalidToken("no"),
			wantResult: dcr.ResultRefused, wantReason: bearer.CodeInvalidToken},
		{name: "unknown code", err: &bearer.Error{Status: http.StatusBadRequest, Code: "made_up"},
			wantResult: dcr.ResultRefused, wantReason: dcr.ReasonOther},
		{name: "plain error", err: errBoom, wantResult: dcr.ResultError, wantReason: dcr.ReasonInternal},
		{name: "unmarked 500", err: fmt.Errorf("x: %w", &bearer.Error{Status: 500, Code: dcr.CodeServerError}),
			wantResult: dcr.ResultError, wantReason: dcr.ReasonInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := (*dcr.Result)(nil), tt.err
			if tt.err == nil {
				f := newFixture(t, tt.policy)
				for _, md := range tt.before {
					if _, err := f.svc.Register(t.Context(), md); err != nil {
						t.Fatal(err)
					}
				}
				if tt.inject != nil {
					tt.inject(f)
				}
				res, err = f.svc.Register(t.Context(), tt.md)
			}
			result, reason := dcr.RegistrationOutcome(res, err)
			if result != tt.wantResult || reason != tt.wantReason {
				t.Fatalf("outcome = %s %s, want %s %s (err %v)", result, reason, tt.wantResult, tt.wantReason, err)
			}
		})
	}
}

// TestReasonKeepsErrorChain: marking a failure with its reason changes
// neither its text nor what errors.Is and errors.As find.
func TestReasonKeepsErrorChain(t *testing.T) {
	f := newFixture(t, nil)
	f.apps.FailNextCreate(errBoom)
	_, err := f.svc.Register(t.Context(), publicMD())
	if !errors.Is(err, errBoom) {
		t.Fatalf("errors.Is lost the cause: %v", err)
	}
	wantOAuthError(t, err, http.StatusInternalServerError, dcr.CodeServerError)
	if got, want := err.Error(), `could not create the app client: create app client "mcp-Test Client": boom`; !strings.HasSuffix(got, want) {
		t.Fatalf("text = %q, want it to end with %q", got, want)
	}
}
