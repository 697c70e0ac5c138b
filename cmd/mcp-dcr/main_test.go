package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

func TestPolicyFrom(t *testing.T) {
	rs := func(context.Context) ([]string, error) { return []string{"mcp/tools", "mcp/admin"}, nil }
	tests := []struct {
		name  string
		cfg   config.DCR
		check func(p dcr.Policy) bool
	}{
		{"scopes default to the resource server's plus openid", config.DCR{},
			func(p dcr.Policy) bool {
				return slices.Equal(p.AllowedScopes, []string{"openid", "mcp/tools", "mcp/admin"})
			}},
		{"allowed_scopes replace them", config.DCR{AllowedScopes: []string{"openid", "email"}, DefaultScopes: []string{"openid"}},
			func(p dcr.Policy) bool {
				return slices.Equal(p.AllowedScopes, []string{"openid", "email"}) && slices.Equal(p.DefaultScopes, []string{"openid"})
			}},
		{"unset keys keep the policy defaults", config.DCR{},
			func(p dcr.Policy) bool {
				d := dcr.DefaultPolicy()
				return p.MaxRegistrations == d.MaxRegistrations && p.RegistrationTTL == d.RegistrationTTL &&
					p.ReusePublicRegistrations && p.ClientNamePrefix == d.ClientNamePrefix &&
					slices.Equal(p.PrivateUseSchemes, d.PrivateUseSchemes) && p.LoopbackCallbackLimit == d.LoopbackCallbackLimit
			}},
		{"set keys override", config.DCR{MaxRegistrations: 50, AppClientQuota: 2000, RegistrationTTL: time.Hour,
			ReusePublicRegistrations: new(bool), ClientNamePrefix: "corp-", PrivateUseSchemes: []string{"com.example.app"},
			RedirectURIPatterns: []string{"https://*.example.com/cb"}, DisableDefaultRedirects: true, AllowClientCredentials: true,
			LoopbackCallbackLimit: 7},
			func(p dcr.Policy) bool {
				return p.MaxRegistrations == 50 && p.AppClientQuota == 2000 && p.RegistrationTTL == time.Hour &&
					!p.ReusePublicRegistrations && p.ClientNamePrefix == "corp-" &&
					slices.Equal(p.PrivateUseSchemes, []string{"com.example.app"}) &&
					slices.Equal(p.RedirectPatterns, []string{"https://*.example.com/cb"}) &&
					p.DisableDefaultRedirects && p.AllowClientCredentials && p.LoopbackCallbackLimit == 7
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policyFrom(context.Background(), &tt.cfg, rs)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(p) {
				t.Fatalf("policy %+v", p)
			}
		})
	}
}

func TestPolicyFromErrors(t *testing.T) {
	down := errors.New("cognito down")
	_, err := policyFrom(context.Background(), &config.DCR{}, func(context.Context) ([]string, error) { return nil, down })
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "allowed_scopes") {
		t.Fatalf("err = %v", err)
	}
	_, err = policyFrom(context.Background(), &config.DCR{AllowedScopes: []string{"openid"}, DefaultScopes: []string{"other"}}, nil)
	if err == nil {
		t.Fatal("an invalid policy must be refused")
	}
}

func TestPrintReport(t *testing.T) {
	var b bytes.Buffer
	printReport(&b, dcr.GCReport{Expired: []string{"a", "b", "c"}, Deleted: []string{"a"},
		Failed: map[string]string{"b": "throttled"}}, false)
	want := "expired 3, deleted 1, failed 1\n  a\tdeleted\n  b\tfailed: throttled\n  c\texpired\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	printReport(&b, dcr.GCReport{Expired: []string{"a"}}, true)
	if b.String() != "expired 1, deleted 0, failed 0 (dry run: nothing deleted)\n  a\texpired\n" {
		t.Fatalf("dry run: %q", b.String())
	}
}

func TestVersionAndUnknownConfig(t *testing.T) {
	var out bytes.Buffer
	root := rootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil || out.String() != "mcp-dcr dev\n" {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	for _, args := range [][]string{{"serve", "--config", "testdata/missing.yaml"}, {"gc", "--config", "testdata/missing.yaml"},
		{"table", "create", "--config", "testdata/missing.yaml"}} {
		root := rootCmd()
		root.SetArgs(args)
		if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
			t.Fatalf("%v: %v", args, err)
		}
	}
}
