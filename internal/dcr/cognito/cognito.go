// Package cognito is the Amazon Cognito adapter of the registration service:
// it turns a dcr.AppClientSpec into a Cognito user pool app client for the
// OAuth 2.0 authorization code flow (RFC 6749 §4.1, with PKCE required by the
// clients) and manages it for RFC 7592.
//
// It applies no registration policy (redirect URI rules, scope limits, name
// charset): internal/dcr does, before calling here. What it does enforce is
// the operator's app-client baseline, the same for every registered client:
// OAuth flows only through managed login, no password-based API flows,
// token revocation on, user-existence errors hidden, configured identity
// providers and token lifetimes.
package cognito

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// API is the part of *cognitoidentityprovider.Client this package uses; tests
// substitute a fake.
type API interface {
	CreateUserPoolClient(ctx context.Context, in *cip.CreateUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.CreateUserPoolClientOutput, error)
	UpdateUserPoolClient(ctx context.Context, in *cip.UpdateUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolClientOutput, error)
	DeleteUserPoolClient(ctx context.Context, in *cip.DeleteUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DeleteUserPoolClientOutput, error)
	DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error)
	CreateManagedLoginBranding(ctx context.Context, in *cip.CreateManagedLoginBrandingInput, optFns ...func(*cip.Options)) (*cip.CreateManagedLoginBrandingOutput, error)
	ListResourceServers(ctx context.Context, in *cip.ListResourceServersInput, optFns ...func(*cip.Options)) (*cip.ListResourceServersOutput, error)
}

var (
	_ API            = (*cip.Client)(nil)
	_ dcr.AppClients = (*Clients)(nil)
)

// Defaults for Options.
const (
	DefaultAccessTokenValidity  = dcr.DefaultAccessTokenValidity
	DefaultIDTokenValidity      = dcr.DefaultIDTokenValidity
	DefaultRefreshTokenValidity = dcr.DefaultRefreshTokenValidity
)

// Options is the operator's app-client baseline.
type Options struct {
	// UserPoolID is the pool the app clients are created in (required).
	UserPoolID string
	// SupportedIdentityProviders are offered on the managed login page;
	// default ["COGNITO"]. Federated corporate IdPs (the provider names
	// configured in the pool, e.g. "Okta" or "EntraID") named here are
	// offered to every registered client. Not checked: that they exist in the
	// pool (Cognito rejects unknown names).
	SupportedIdentityProviders []string
	// AccessTokenValidity, IDTokenValidity and RefreshTokenValidity default to
	// 1h, 1h and 30 days. They are sent in minutes (TokenValidityUnits all
	// "minutes"), so they must be whole minutes, and within Cognito's bounds.
	AccessTokenValidity  time.Duration
	IDTokenValidity      time.Duration
	RefreshTokenValidity time.Duration
	// ManagedLoginBranding calls CreateManagedLoginBranding
	// (UseCognitoProvidedValues) after creating a client: clients created by
	// API get no managed-login style otherwise, and managed login then fails
	// for them. moto does not implement it: turn it off against moto.
	ManagedLoginBranding bool
	// RefreshTokenRotation makes every refresh return a new refresh token
	// and invalidate the old one after RefreshTokenRotationGrace (0-60 s,
	// whole seconds). Cognito refuses rotation together with
	// ALLOW_REFRESH_TOKEN_AUTH, so rotating clients get ALLOW_USER_SRP_AUTH as
	// their one explicit flow instead (the token endpoint's refresh_token
	// grant, which MCP clients use, works either way). Not checked here:
	// that Cognito accepts that list (only on paper; moto ignores it).
	RefreshTokenRotation      bool
	RefreshTokenRotationGrace time.Duration
	// Metrics times every Cognito API call (dcr.Metrics.CognitoCall);
	// none when nil. Now is its clock; time.Now when nil.
	Metrics dcr.Metrics
	Now     func() time.Time
}

// Clients creates and manages Cognito app clients in one pool.
type Clients struct {
	api  API
	opts Options
}

// New checks o, fills its defaults and returns the adapter. It fails on a
// nil api, an empty UserPoolID, and token validities that are not whole
// minutes or outside Cognito's bounds.
func New(api API, o Options) (*Clients, error) {
	if api == nil {
		return nil, errors.New("cognito: nil API")
	}
	if o.UserPoolID == "" {
		return nil, errors.New("cognito: user pool id is required")
	}
	if len(o.SupportedIdentityProviders) == 0 {
		o.SupportedIdentityProviders = []string{"COGNITO"}
	} else {
		o.SupportedIdentityProviders = slices.Clone(o.SupportedIdentityProviders)
	}
	// Cognito's bounds (CreateUserPoolClient) are package dcr's rules.
	for _, d := range []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&o.AccessTokenValidity, DefaultAccessTokenValidity},
		{&o.IDTokenValidity, DefaultIDTokenValidity},
		{&o.RefreshTokenValidity, DefaultRefreshTokenValidity},
	} {
		if *d.d == 0 {
			*d.d = d.def
		}
	}
	var errs []error
	if err := dcr.CheckAccessTokenValidity(o.AccessTokenValidity); err != nil {
		errs = append(errs, fmt.Errorf("cognito: access token validity %v %w", o.AccessTokenValidity, err))
	}
	if err := dcr.CheckAccessTokenValidity(o.IDTokenValidity); err != nil {
		errs = append(errs, fmt.Errorf("cognito: ID token validity %v %w", o.IDTokenValidity, err))
	}
	if err := dcr.CheckRefreshTokenValidity(o.RefreshTokenValidity, o.AccessTokenValidity, o.IDTokenValidity); err != nil {
		errs = append(errs, fmt.Errorf("cognito: refresh token validity %v %w", o.RefreshTokenValidity, err))
	}
	if g := o.RefreshTokenRotationGrace; g < 0 || g > time.Minute || g%time.Second != 0 {
		errs = append(errs, fmt.Errorf("cognito: refresh token rotation grace %v must be whole seconds from 0s to 60s", g))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Clients{api: measure(api, o.Metrics, o.Now), opts: o}, nil
}

// config is the desired app-client configuration: the spec plus the baseline.
type config struct {
	flows         []types.OAuthFlowType
	authFlows     []types.ExplicitAuthFlowsType
	validityUnits *types.TokenValidityUnitsType
	access, id    *int32
	refresh       int32
	rotation      *types.RefreshTokenRotationType
}

// desired checks the spec's flows and derives the configuration. Only "code"
// and "client_credentials" are accepted (never "implicit"). ExplicitAuthFlows
// is always sent, never omitted: Cognito enables ALLOW_USER_SRP_AUTH and
// ALLOW_CUSTOM_AUTH for an omitted list. It holds exactly
// ALLOW_REFRESH_TOKEN_AUTH, which Cognito requires in every explicit list
// (an empty list is not a way to disable it); no password flow is ever
// enabled (users sign in through managed login). Whether a client may use
// refresh tokens is governed by its registered grant_types at the
// registration layer, not here.
func (c *Clients) desired(spec dcr.AppClientSpec) (config, error) {
	if len(spec.Flows) == 0 {
		return config{}, errors.New("cognito: app client spec has no OAuth flow")
	}
	cfg := config{
		authFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		validityUnits: &types.TokenValidityUnitsType{
			AccessToken:  types.TimeUnitsTypeMinutes,
			IdToken:      types.TimeUnitsTypeMinutes,
			RefreshToken: types.TimeUnitsTypeMinutes,
		},
		access:  aws.Int32(minutes(c.opts.AccessTokenValidity)),
		id:      aws.Int32(minutes(c.opts.IDTokenValidity)),
		refresh: minutes(c.opts.RefreshTokenValidity),
	}
	if c.opts.RefreshTokenRotation {
		cfg.authFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth}
		cfg.rotation = &types.RefreshTokenRotationType{
			Feature:                 types.FeatureTypeEnabled,
			RetryGracePeriodSeconds: aws.Int32(int32(c.opts.RefreshTokenRotationGrace / time.Second)),
		}
	}
	for _, f := range spec.Flows {
		switch types.OAuthFlowType(f) {
		case types.OAuthFlowTypeCode, types.OAuthFlowTypeClientCredentials:
			cfg.flows = append(cfg.flows, types.OAuthFlowType(f))
		default:
			return config{}, fmt.Errorf("cognito: OAuth flow %q is not supported (code or client_credentials)", f)
		}
	}
	return cfg, nil
}

func minutes(d time.Duration) int32 { return int32(d / time.Minute) }

// Create creates the app client for spec (CreateUserPoolClient) and returns
// its id and, when spec.GenerateSecret is set, its secret. With
// ManagedLoginBranding it then calls CreateManagedLoginBranding for the new
// client; if that fails the new client is deleted again (no orphan) and the
// error returned, joined with the delete's error if that failed too.
//
// Not checked here: redirect URIs, name charset and scopes (Cognito checks
// them too, and internal/dcr's policy before it).
func (c *Clients) Create(ctx context.Context, spec dcr.AppClientSpec) (clientID, clientSecret string, err error) {
	cfg, err := c.desired(spec)
	if err != nil {
		return "", "", err
	}
	out, err := c.api.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:                      aws.String(c.opts.UserPoolID),
		ClientName:                      aws.String(spec.Name),
		GenerateSecret:                  spec.GenerateSecret,
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               cfg.flows,
		AllowedOAuthScopes:              slices.Clone(spec.Scopes),
		CallbackURLs:                    slices.Clone(spec.CallbackURLs),
		SupportedIdentityProviders:      slices.Clone(c.opts.SupportedIdentityProviders),
		ExplicitAuthFlows:               cfg.authFlows,
		EnableTokenRevocation:           aws.Bool(true),
		PreventUserExistenceErrors:      types.PreventUserExistenceErrorTypesEnabled,
		AccessTokenValidity:             cfg.access,
		IdTokenValidity:                 cfg.id,
		RefreshTokenValidity:            cfg.refresh,
		TokenValidityUnits:              cfg.validityUnits,
		RefreshTokenRotation:            cfg.rotation,
	})
	if err != nil {
		return "", "", wrap("create app client", err)
	}
	if out.UserPoolClient == nil || aws.ToString(out.UserPoolClient.ClientId) == "" {
		return "", "", errors.New("cognito: create app client: response has no client id")
	}
	clientID = aws.ToString(out.UserPoolClient.ClientId)
	clientSecret = aws.ToString(out.UserPoolClient.ClientSecret)
	if c.opts.ManagedLoginBranding {
		if err := c.brand(ctx, clientID); err != nil {
			if derr := c.Delete(ctx, clientID); derr != nil {
				return "", "", errors.Join(err, fmt.Errorf("cognito: app client %s left behind: %w", clientID, derr))
			}
			return "", "", err
		}
	}
	return clientID, clientSecret, nil
}

// brand gives clientID Cognito's default managed-login style. A style that
// already exists for the client counts as success.
func (c *Clients) brand(ctx context.Context, clientID string) error {
	_, err := c.api.CreateManagedLoginBranding(ctx, &cip.CreateManagedLoginBrandingInput{
		UserPoolId:               aws.String(c.opts.UserPoolID),
		ClientId:                 aws.String(clientID),
		UseCognitoProvidedValues: true,
	})
	var exists *types.ManagedLoginBrandingExistsException
	if err != nil && !errors.As(err, &exists) {
		return wrap("create managed login branding for "+clientID, err)
	}
	return nil
}

// Update replaces the app client's configuration (UpdateUserPoolClient).
// Cognito resets every field an update omits to its default (for example
// omitted token validities fall back to Cognito's, an omitted
// ExplicitAuthFlows re-enables SRP password sign-in, omitted identity
// providers disable managed login), so Update always sends the full desired
// configuration, the baseline included, exactly as Create does. A client's
// secret cannot be added or removed by an update; spec.GenerateSecret is
// ignored.
func (c *Clients) Update(ctx context.Context, clientID string, spec dcr.AppClientSpec) error {
	cfg, err := c.desired(spec)
	if err != nil {
		return err
	}
	_, err = c.api.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
		UserPoolId:                      aws.String(c.opts.UserPoolID),
		ClientId:                        aws.String(clientID),
		ClientName:                      aws.String(spec.Name),
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               cfg.flows,
		AllowedOAuthScopes:              slices.Clone(spec.Scopes),
		CallbackURLs:                    slices.Clone(spec.CallbackURLs),
		SupportedIdentityProviders:      slices.Clone(c.opts.SupportedIdentityProviders),
		ExplicitAuthFlows:               cfg.authFlows,
		EnableTokenRevocation:           aws.Bool(true),
		PreventUserExistenceErrors:      types.PreventUserExistenceErrorTypesEnabled,
		AccessTokenValidity:             cfg.access,
		IdTokenValidity:                 cfg.id,
		RefreshTokenValidity:            cfg.refresh,
		TokenValidityUnits:              cfg.validityUnits,
		RefreshTokenRotation:            cfg.rotation,
	})
	if err != nil {
		return wrap("update app client "+clientID, err)
	}
	return nil
}

// Delete deletes the app client (DeleteUserPoolClient); a client that does
// not exist (ResourceNotFoundException) counts as deleted. Cognito stops
// issuing and refreshing tokens for it at once; access tokens already issued
// stay valid by signature until they expire, which is why the gateway also
// checks client ids. Not done: deleting the client's managed-login style
// explicitly (this API has no DeleteManagedLoginBranding).
func (c *Clients) Delete(ctx context.Context, clientID string) error {
	_, err := c.api.DeleteUserPoolClient(ctx, &cip.DeleteUserPoolClientInput{
		UserPoolId: aws.String(c.opts.UserPoolID),
		ClientId:   aws.String(clientID),
	})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return wrap("delete app client "+clientID, err)
	}
	return nil
}

// Secret returns the app client's current secret (DescribeUserPoolClient),
// for the RFC 7592 §2.1 read response; "" for a public client. A missing
// client is an error wrapping *types.ResourceNotFoundException.
func (c *Clients) Secret(ctx context.Context, clientID string) (string, error) {
	out, err := c.api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(c.opts.UserPoolID),
		ClientId:   aws.String(clientID),
	})
	if err != nil {
		return "", wrap("describe app client "+clientID, err)
	}
	if out.UserPoolClient == nil {
		return "", fmt.Errorf("cognito: describe app client %s: empty response", clientID)
	}
	return aws.ToString(out.UserPoolClient.ClientSecret), nil
}
