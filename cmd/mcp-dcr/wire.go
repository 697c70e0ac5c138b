package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mcp-gateway/mcp-gateway/internal/awsconf"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dynamo"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
)

// app is everything a command needs, wired from configuration. This file is
// the only place that builds dependencies.
type app struct {
	cfg     *config.DCR
	log     *slog.Logger
	dynamo  *dynamodb.Client
	service *dcr.Service
	policy  dcr.Policy
	// metrics receives the service's measurements (Prometheus for serve,
	// EMF under Lambda, none for gc).
	metrics dcr.Metrics
}

// wireAWS loads the AWS configuration and builds the DynamoDB client (all
// `table create` needs).
func wireAWS(ctx context.Context, cfg *config.DCR) (*app, *cip.Client, error) {
	awsCfg, err := awsconf.Load(ctx, cfg.Region, cfg.AWSEndpoint)
	if err != nil {
		return nil, nil, err
	}
	a := &app{cfg: cfg, log: newLogger(cfg.LogLevel, cfg.LogFormat), dynamo: dynamodb.NewFromConfig(awsCfg)}
	return a, cip.NewFromConfig(awsCfg), nil
}

// wire builds the registration service: awsconf -> Cognito adapter and
// DynamoDB store -> policy (allowed scopes default to the pool's
// resource-server scopes plus openid, read once here) -> dcr.Service.
// m (nil: none) receives the measurements of the Cognito adapter and,
// through handler, of the HTTP face and the CIMD fetcher.
func wire(ctx context.Context, cfg *config.DCR, m dcr.Metrics) (*app, error) {
	a, cognitoAPI, err := wireAWS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.metrics = m
	apps, err := cognito.New(cognitoAPI, cognito.Options{
		UserPoolID:                 cfg.UserPoolID,
		SupportedIdentityProviders: cfg.SupportedIdentityProviders,
		AccessTokenValidity:        cfg.AccessTokenValidity,
		IDTokenValidity:            cfg.IDTokenValidity,
		RefreshTokenValidity:       cfg.RefreshTokenValidity,
		RefreshTokenRotation:       cfg.RefreshTokenRotation,
		RefreshTokenRotationGrace:  cfg.RefreshTokenRotationGrace,
		ManagedLoginBranding:       cfg.Branding(),
		Metrics:                    m,
	})
	if err != nil {
		return nil, err
	}
	a.policy, err = policyFrom(ctx, cfg, apps.ResourceServerScopes)
	if err != nil {
		return nil, err
	}
	a.service, err = dcr.NewService(apps, dynamo.New(a.dynamo, cfg.Table), a.policy, dcr.ServiceOptions{Logger: a.log})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// policyFrom maps configuration onto dcr.DefaultPolicy: a key that is set
// replaces the default (lists wholesale: private_use_schemes [x] drops
// "cursor"); unset keys keep it. When allowed_scopes is unset, the pool's
// resource-server scopes plus openid are used.
func policyFrom(ctx context.Context, cfg *config.DCR, resourceScopes func(context.Context) ([]string, error)) (dcr.Policy, error) {
	p := dcr.DefaultPolicy()
	if len(cfg.AllowedScopes) > 0 {
		p.AllowedScopes = slices.Clone(cfg.AllowedScopes)
	} else {
		rs, err := resourceScopes(ctx)
		if err != nil {
			return p, fmt.Errorf("read the pool's resource-server scopes (or set allowed_scopes): %w", err)
		}
		p.AllowedScopes = append([]string{"openid"}, rs...)
	}
	p.DefaultScopes = slices.Clone(cfg.DefaultScopes)
	if len(cfg.RedirectURIPatterns) > 0 {
		p.RedirectPatterns = slices.Clone(cfg.RedirectURIPatterns)
	}
	if len(cfg.PrivateUseSchemes) > 0 {
		p.PrivateUseSchemes = slices.Clone(cfg.PrivateUseSchemes)
	}
	p.DisableDefaultRedirects = cfg.DisableDefaultRedirects
	p.InsecureAnyHTTPSRedirect = cfg.InsecureAnyHTTPSRedirect
	p.AllowClientCredentials = cfg.AllowClientCredentials
	if cfg.MaxRegistrations > 0 {
		p.MaxRegistrations = cfg.MaxRegistrations
	}
	if cfg.AppClientQuota > 0 {
		p.AppClientQuota = cfg.AppClientQuota
	}
	if cfg.RegistrationTTL > 0 {
		p.RegistrationTTL = cfg.RegistrationTTL
	}
	if cfg.ReusePublicRegistrations != nil {
		p.ReusePublicRegistrations = *cfg.ReusePublicRegistrations
	}
	if cfg.ClientNamePrefix != "" {
		p.ClientNamePrefix = cfg.ClientNamePrefix
	}
	if cfg.LoopbackCallbackLimit > 0 {
		p.LoopbackCallbackLimit = cfg.LoopbackCallbackLimit
	}
	return p, p.Validate()
}

// handler builds the HTTP face over the service, with the CIMD bridge (the
// strict /authorize front) when enabled. scopes_supported is the policy's
// allowed scopes; grant_types_supported follows allow_client_credentials;
// the bridge fills a missing authorization scope from default_scopes (only
// when that key is set).
func (a *app) handler() (*httpapi.Handler, error) {
	cfg := a.cfg
	scopes := slices.Clone(a.policy.AllowedScopes)
	o := httpapi.Options{
		Service:            a.service,
		PublicURL:          cfg.PublicURL,
		CognitoDomain:      cfg.CognitoDomain,
		JWKSURI:            cfg.JWKSURI,
		Scopes:             func(context.Context) ([]string, error) { return scopes, nil },
		RateLimit:          cfg.RateLimit,
		RateBurst:          cfg.RateLimitBurst,
		InitialAccessToken: cfg.InitialAccessToken,
		MaxBodyBytes:       cfg.MaxBodyBytes,
		TrustForwardedFor:  cfg.TrustForwardedFor,
		Retryable:          func(err error) bool { return errors.Is(err, cognito.ErrThrottled) },
		Logger:             a.log,
		Metrics:            a.metrics,

		AllowClientCredentials: a.policy.AllowClientCredentials,
	}
	if cfg.CIMD() {
		b, err := cimd.NewBridge(cimd.BridgeOptions{
			Fetcher:       cimd.NewFetcher(cimd.FetcherOptions{InsecureAllowLoopback: cfg.InsecureCIMDAllowLoopback, Metrics: a.metrics}),
			Registrar:     a.service,
			CognitoDomain: cfg.CognitoDomain,
			Logger:        a.log,
			DefaultScopes: cfg.DefaultScopes,
		})
		if err != nil {
			return nil, err
		}
		o.Bridge = b
	}
	return httpapi.New(o)
}

// gc runs one garbage-collection pass and logs its report.
func (a *app) gc(ctx context.Context, dryRun bool) (dcr.GCReport, error) {
	rep, err := a.service.GC(ctx, dryRun)
	a.log.Info("mcp-dcr: gc", "dry_run", dryRun, "expired", len(rep.Expired), "deleted", len(rep.Deleted),
		"failed", len(rep.Failed))
	if err == nil && len(rep.Failed) > 0 {
		err = fmt.Errorf("gc: %d expired registrations could not be removed", len(rep.Failed))
	}
	return rep, err
}
