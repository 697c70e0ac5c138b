package dcr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// compensationTimeout bounds the deletion of an app client whose
// registration could not be stored (run even if the request was cancelled).
const compensationTimeout = 15 * time.Second

// ServiceOptions are a Service's optional dependencies.
type ServiceOptions struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives registration events; discarded when nil. Secrets and
	// registration access tokens are never logged.
	Logger *slog.Logger
	// NewToken generates registration access tokens; 32 random bytes,
	// base64url, when nil.
	NewToken func() string
}

// Service applies RFC 7591 registration and RFC 7592 management on top of
// Cognito app clients (AppClients) and a registration Store, under a Policy.
// It holds no per-request state and is safe for concurrent use. It is NOT
// atomic across the two back ends: two identical concurrent public
// registrations may both create an app client, and the MaxRegistrations
// ceiling is checked with Store.Count before creating, so concurrent requests
// may overshoot it by their number (keep the ceiling well below the quota).
type Service struct {
	apps     AppClients
	store    Store
	rules    *rules
	now      func() time.Time
	log      *slog.Logger
	newToken func() string
}

// NewService validates p (every problem at once) and returns a Service.
func NewService(apps AppClients, store Store, p Policy, o ServiceOptions) (*Service, error) {
	if apps == nil || store == nil {
		return nil, errors.New("dcr: NewService needs AppClients and a Store")
	}
	r, err := p.compile()
	if err != nil {
		return nil, err
	}
	s := &Service{apps: apps, store: store, rules: r, now: o.Now, log: o.Logger, newToken: o.NewToken}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.newToken == nil {
		s.newToken = newRegistrationToken
	}
	return s, nil
}

// Policy returns a copy of the policy the Service enforces.
func (s *Service) Policy() Policy {
	p := s.rules.Policy
	p.AllowedScopes = append([]string(nil), p.AllowedScopes...)
	p.DefaultScopes = append([]string(nil), p.DefaultScopes...)
	p.RedirectPatterns = append([]string(nil), p.RedirectPatterns...)
	p.PrivateUseSchemes = append([]string(nil), p.PrivateUseSchemes...)
	return p
}

// Register handles an RFC 7591 §3.1 registration request: it validates md
// (see normalize and Policy), reuses an identical live public registration
// when the policy says so (Result.Reused, no registration access token, the
// expiry renewed when less than half the TTL is left), enforces
// MaxRegistrations, creates the app client, and stores the registration with
// only the hash of a new registration access token. If the store write
// fails, the new app client is deleted (compensation) and a 500 is returned.
// The client secret and token appear only in the Result, never in the Store.
// Errors are *bearer.Error for the client (400 invalid_redirect_uri or
// invalid_client_metadata, 503 at the ceiling) or internal failures.
// It does NOT check an initial access token or rate limits (HTTP layer).
func (s *Service) Register(ctx context.Context, md ClientMetadata) (*Result, error) {
	n, err := s.rules.normalize(md, "")
	if err != nil {
		return nil, err
	}
	var hash string
	if n.public {
		hash = metadataHash(n.md)
	}
	if hash != "" && s.rules.ReusePublicRegistrations {
		reg, err := s.findLive(ctx, hash)
		if err != nil {
			return nil, err
		}
		if reg != nil && reg.Source == SourceDCR {
			reg = s.renew(ctx, reg)
			s.log.Info("dcr: registration reused", "client_id", reg.ClientID, "client_name", reg.CognitoClientName)
			return &Result{Registration: *reg, Reused: true}, nil
		}
	}
	rat := s.newToken()
	reg := Registration{
		Metadata:              n.md,
		CognitoClientName:     n.spec.Name,
		Scopes:                n.spec.Scopes,
		RegistrationTokenHash: TokenHash(rat),
		MetadataHash:          hash,
		Source:                SourceDCR,
	}
	secret, err := s.create(ctx, n.spec, &reg, nil)
	if err != nil {
		return nil, err
	}
	return &Result{Registration: reg, ClientSecret: secret, RegistrationAccessToken: rat}, nil
}

// create checks the ceiling, asks gate (its refusal is returned, nothing
// written), creates the app client and stores reg (filling ClientID,
// CreatedAt, ExpiresAt, Version), deleting the app client again if the
// store write fails.
func (s *Service) create(ctx context.Context, spec AppClientSpec, reg *Registration, gate WriteGate) (string, error) {
	count, err := s.store.Count(ctx)
	if err != nil {
		return "", serverError("could not count registrations", withReason(ReasonStore, fmt.Errorf("count registrations: %w", err)))
	}
	if count >= s.rules.MaxRegistrations {
		s.log.Warn("dcr: registration refused at the ceiling", "count", count, "max_registrations", s.rules.MaxRegistrations)
		return "", errCeiling(s.rules.MaxRegistrations)
	}
	if err := gate.allow(); err != nil {
		s.log.Warn("dcr: app client not created: the caller's write limit refused it", "client_name", spec.Name, "source", reg.Source)
		return "", err
	}
	id, secret, err := s.apps.Create(ctx, spec)
	if err != nil {
		return "", serverError("could not create the app client", withReason(ReasonCognito, fmt.Errorf("create app client %q: %w", spec.Name, err)))
	}
	now := s.now().UTC()
	reg.ClientID, reg.CreatedAt, reg.Version = id, now, 1
	if s.rules.RegistrationTTL > 0 {
		reg.ExpiresAt = now.Add(s.rules.RegistrationTTL)
	}
	if err := s.store.Create(ctx, *reg); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), compensationTimeout)
		defer cancel()
		if delErr := s.apps.Delete(cctx, id); delErr != nil {
			s.log.Error("dcr: store write failed and the app client could not be deleted: orphaned app client",
				"client_id", id, "store_error", err, "delete_error", delErr)
			return "", serverError("could not store the registration", withReason(ReasonStore, fmt.Errorf("store registration %s: %w (and delete app client: %w)", id, err, delErr)))
		}
		s.log.Error("dcr: store write failed; app client deleted", "client_id", id, "store_error", err)
		return "", serverError("could not store the registration", withReason(ReasonStore, fmt.Errorf("store registration %s: %w", id, err)))
	}
	s.log.Info("dcr: client registered", "client_id", id, "client_name", reg.CognitoClientName,
		"source", reg.Source, "auth_method", reg.Metadata.TokenEndpointAuthMethod, "scopes", reg.Scopes)
	return secret, nil
}

// findLive returns the unexpired registration with hash, or nil.
func (s *Service) findLive(ctx context.Context, hash string) (*Registration, error) {
	reg, err := s.store.FindByMetadataHash(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, serverError("could not look up registrations", withReason(ReasonStore, fmt.Errorf("find registration by metadata hash: %w", err)))
	case s.expired(reg):
		return nil, nil
	}
	return reg, nil
}

// expired reports whether reg's ExpiresAt has passed.
func (s *Service) expired(reg *Registration) bool {
	return !reg.ExpiresAt.IsZero() && !s.now().Before(reg.ExpiresAt)
}

// renew extends a reused registration's expiry when less than half of the
// TTL is left, so that a registration in use is not collected. A failed
// write (e.g. a concurrent renewal) is logged and the old record returned.
func (s *Service) renew(ctx context.Context, reg *Registration) *Registration {
	ttl := s.rules.RegistrationTTL
	now := s.now().UTC()
	if ttl <= 0 || reg.ExpiresAt.IsZero() || reg.ExpiresAt.Sub(now) >= ttl/2 {
		return reg
	}
	next := *reg
	next.ExpiresAt, next.Version = now.Add(ttl), reg.Version+1
	if err := s.store.Update(ctx, next); err != nil {
		s.log.Warn("dcr: could not renew a reused registration", "client_id", reg.ClientID, "error", err)
		return reg
	}
	return &next
}

// ClientInfo renders res as the RFC 7591 §3.2.1 client information
// response: the stored metadata, client_id, client_id_issued_at, the secret
// with client_secret_expires_at 0 (Cognito secrets do not expire) when there
// is one, and the RFC 7592 §3 registration_access_token and
// registration_client_uri when a token was issued or presented. It does NOT
// build registrationClientURI (the HTTP layer knows its public URL).
func ClientInfo(res *Result, registrationClientURI string) oauthmeta.ClientInformation {
	reg := res.Registration
	info := oauthmeta.ClientInformation{ClientID: reg.ClientID, ClientMetadata: reg.Metadata}
	if !reg.CreatedAt.IsZero() {
		info.ClientIDIssuedAt = reg.CreatedAt.Unix()
	}
	if res.ClientSecret != "" {
		never := int64(0)
		info.ClientSecret, info.ClientSecretExpiresAt = res.ClientSecret, &never
	}
	if res.RegistrationAccessToken != "" {
		info.RegistrationAccessToken = res.RegistrationAccessToken
		info.RegistrationClientURI = registrationClientURI
	}
	return info
}
