package dcr

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
)

// maxTokenLen bounds a presented registration access token (ours are 43
// characters); longer ones are refused without hashing.
const maxTokenLen = 512

// BodyCredentials are the client_id and client_secret members of an
// RFC 7592 §2.2 update request body, which ClientMetadata does not carry.
// The HTTP layer passes them to Update when the body has them.
type BodyCredentials struct {
	ClientID     string
	ClientSecret string
}

// authorize returns the live registration of clientID if token is its
// registration access token. A missing client, an expired registration, a
// CIMD client (no token) and a wrong or empty token all give the same 401
// invalid_token (RFC 7592 §2.1-§2.3). Comparison is constant-time over the
// SHA-256 hashes (tokenMatches).
func (s *Service) authorize(ctx context.Context, clientID, token string) (*Registration, error) {
	if clientID == "" || token == "" || len(token) > maxTokenLen || len(clientID) > maxClientIDLen {
		return nil, errBadRegistrationToken()
	}
	reg, err := s.store.Get(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		tokenMatches("", token) // same work as a wrong token
		return nil, errBadRegistrationToken()
	}
	if err != nil {
		return nil, serverError("could not read the registration", fmt.Errorf("get registration %q: %w", clientID, err))
	}
	if !tokenMatches(reg.RegistrationTokenHash, token) || s.expired(reg) {
		return nil, errBadRegistrationToken()
	}
	return reg, nil
}

// Read is the RFC 7592 §2.1 read: the registration, the presented token
// (it stays valid; tokens are not rotated) and, for confidential clients,
// the current secret from Cognito.
func (s *Service) Read(ctx context.Context, clientID, token string) (*Result, error) {
	reg, err := s.authorize(ctx, clientID, token)
	if err != nil {
		return nil, err
	}
	secret, err := s.secret(ctx, reg)
	if err != nil {
		return nil, err
	}
	return &Result{Registration: *reg, ClientSecret: secret, RegistrationAccessToken: token}, nil
}

// Update is the RFC 7592 §2.2 update: md replaces the metadata wholesale
// (omitted members take their defaults) under the same rules as Register.
// When body is given, its ClientID, if non-empty, must equal clientID and
// its ClientSecret, if non-empty, must equal the current secret (compared in
// constant time); a client cannot choose its secret. A client cannot switch
// between public (none) and confidential: Cognito cannot add or remove a
// secret, so that needs a new registration. The app client is updated
// first, then the record (Version+1, expiry renewed, the port-specific
// loopback callbacks the new redirect URIs still admit kept); when the
// record changed concurrently the whole update is retried once, then 409;
// either way the app client is then settled to the record (see
// UseRedirectURI). The registration access token is NOT rotated.
func (s *Service) Update(ctx context.Context, clientID, token string, md ClientMetadata, body ...BodyCredentials) (*Result, error) {
	for attempt := 0; ; attempt++ {
		reg, err := s.authorize(ctx, clientID, token)
		if err != nil {
			return nil, err
		}
		for _, b := range body {
			if err := s.checkBody(ctx, reg, b); err != nil {
				return nil, err
			}
		}
		n, err := s.rules.normalize(md, "")
		if err != nil {
			return nil, err
		}
		if n.public != (reg.Metadata.TokenEndpointAuthMethod == AuthMethodNone) {
			return nil, ErrInvalidClientMetadata("token_endpoint_auth_method cannot change between none and client_secret_*: register a new client")
		}
		next := *reg
		next.Metadata, next.CognitoClientName, next.Scopes = n.md, n.spec.Name, n.spec.Scopes
		next.LoopbackCallbacks = retainCallbacks(reg.LoopbackCallbacks, n.md, s.callbackLimit(n.md))
		next.MetadataHash = ""
		if n.public {
			next.MetadataHash = metadataHash(n.md)
		}
		if ttl := s.rules.RegistrationTTL; ttl > 0 {
			next.ExpiresAt = s.now().UTC().Add(ttl)
		}
		next.Version = reg.Version + 1
		spec := specOf(&next)
		if err := s.apps.Update(ctx, clientID, spec); err != nil {
			return nil, serverError("could not update the app client", fmt.Errorf("update app client %s: %w", clientID, err))
		}
		err = s.store.Update(ctx, next)
		if errors.Is(err, ErrConflict) {
			if attempt == 0 {
				continue
			}
			if err := s.settle(ctx, clientID, spec); err != nil {
				return nil, err
			}
			return nil, errConcurrentUpdate()
		}
		if err != nil {
			return nil, serverError("could not store the registration", fmt.Errorf("update registration %s: %w", clientID, err))
		}
		if err := s.settle(ctx, clientID, spec); err != nil {
			return nil, err
		}
		s.log.Info("dcr: registration updated", "client_id", clientID, "version", next.Version)
		secret, err := s.secret(ctx, &next)
		if err != nil {
			return nil, err
		}
		return &Result{Registration: next, ClientSecret: secret, RegistrationAccessToken: token}, nil
	}
}

// checkBody applies the RFC 7592 §2.2 client_id and client_secret rules.
func (s *Service) checkBody(ctx context.Context, reg *Registration, b BodyCredentials) error {
	if b.ClientID != "" && b.ClientID != reg.ClientID {
		return ErrInvalidClientMetadata("client_id in the body must equal the client being updated")
	}
	if b.ClientSecret == "" {
		return nil
	}
	current, err := s.secret(ctx, reg)
	if err != nil {
		return err
	}
	if current == "" || subtle.ConstantTimeCompare([]byte(b.ClientSecret), []byte(current)) != 1 {
		return ErrInvalidClientMetadata("client_secret in the body does not match the current secret (it cannot be chosen by the client)")
	}
	return nil
}

// Delete is the RFC 7592 §2.3 delete: the app client first (so tokens can no
// longer be issued even if the record survives), then the record. A retry
// after a partial failure succeeds (both deletions are idempotent).
func (s *Service) Delete(ctx context.Context, clientID, token string) error {
	if _, err := s.authorize(ctx, clientID, token); err != nil {
		return err
	}
	if err := s.remove(ctx, clientID); err != nil {
		return serverError("could not delete the client", err)
	}
	s.log.Info("dcr: registration deleted", "client_id", clientID)
	return nil
}

// remove deletes the app client, then the record.
func (s *Service) remove(ctx context.Context, clientID string) error {
	if err := s.apps.Delete(ctx, clientID); err != nil {
		return fmt.Errorf("delete app client %s: %w", clientID, err)
	}
	if err := s.store.Delete(ctx, clientID); err != nil {
		return fmt.Errorf("delete registration %s: %w", clientID, err)
	}
	return nil
}

// secret returns a confidential client's secret from Cognito; "" for public.
func (s *Service) secret(ctx context.Context, reg *Registration) (string, error) {
	if reg.Metadata.TokenEndpointAuthMethod == AuthMethodNone {
		return "", nil
	}
	secret, err := s.apps.Secret(ctx, reg.ClientID)
	if err != nil {
		return "", serverError("could not read the client secret", fmt.Errorf("read secret of %s: %w", reg.ClientID, err))
	}
	return secret, nil
}
