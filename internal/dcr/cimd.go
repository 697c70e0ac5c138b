package dcr

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// RegisterCIMD maps a Client ID Metadata Document (MCP 2025-11-25
// authorization, draft-ietf-oauth-client-id-metadata-document) to a Cognito
// app client, idempotently: the registration is keyed by the client_id URL
// alone (cimdKey), so the same document always yields the same app client,
// and a changed document updates it (app client, then record). md is the
// fetched document's metadata; it must describe a public client
// (token_endpoint_auth_method none or absent: Cognito cannot verify
// private_key_jwt) and passes the same rules and Policy as Register. A new
// mapping counts toward MaxRegistrations, expires like any registration
// (renewed when used with less than half its TTL left), has Source "cimd"
// and no registration access token (it cannot be managed through RFC 7592).
//
// gate is asked (see [WriteGate]) before the app client is created (after
// the rules and the MaxRegistrations check) or updated, and only then: a
// known, unchanged document costs no Cognito write and never reaches it
// (its expiry renewal writes only the store). When gate refuses, nothing
// is written and its error is returned.
//
// The caller (the CIMD bridge) has fetched the document over https with the
// SSRF guard and checked that its client_id equals clientIDURL; this method
// checks only the URL's syntax (https, host, a path, no fragment, userinfo or
// dot segments) and does NOT fetch anything. Concurrent first uses of one
// URL may create two app clients (each asking gate); both are valid and
// expire.
func (s *Service) RegisterCIMD(ctx context.Context, clientIDURL string, md ClientMetadata, gate WriteGate) (*Registration, error) {
	u, err := parseRedirect(clientIDURL, nil)
	if err != nil || u.Scheme != "https" || u.Path == "" || u.Path == "/" {
		return nil, ErrInvalidClientMetadata(fmt.Sprintf("client_id %s must be an https URL with a path, without fragment or user information", quoteShort(clientIDURL)))
	}
	switch md.TokenEndpointAuthMethod {
	case "", AuthMethodNone:
	default:
		return nil, ErrInvalidClientMetadata("a metadata-document client must use token_endpoint_auth_method none")
	}
	n, err := s.rules.normalize(md, u.Hostname())
	if err != nil {
		return nil, err
	}
	key := cimdKey(clientIDURL)
	existing, err := s.findLive(ctx, key)
	if err != nil {
		return nil, err
	}
	if existing != nil && existing.Source == SourceCIMD && existing.CIMDURL == clientIDURL {
		if metadataHash(existing.Metadata) == metadataHash(n.md) && existing.CognitoClientName == n.spec.Name &&
			slices.Equal(existing.Scopes, n.spec.Scopes) {
			return s.renew(ctx, existing), nil
		}
		return s.updateCIMD(ctx, existing, n, gate)
	}
	reg := Registration{
		Metadata:          n.md,
		CognitoClientName: n.spec.Name,
		Scopes:            n.spec.Scopes,
		MetadataHash:      key,
		Source:            SourceCIMD,
		CIMDURL:           clientIDURL,
	}
	if _, err := s.create(ctx, n.spec, &reg, gate); err != nil {
		return nil, err
	}
	return &reg, nil
}

// updateCIMD brings an existing CIMD mapping in line with a changed
// document, keeping the port-specific loopback callbacks the new document
// still admits. If the record changed concurrently, the other writer's
// record (read again) is returned: it reflects a document fetched as
// recently. Either way the app client is settled to the record. gate is
// asked before the app client is written; its refusal writes nothing.
func (s *Service) updateCIMD(ctx context.Context, existing *Registration, n *normalized, gate WriteGate) (*Registration, error) {
	if err := gate.allow(); err != nil {
		s.log.Warn("dcr: metadata-document client not updated: the caller's write limit refused it",
			"client_id", existing.ClientID, "client_id_url", existing.CIMDURL)
		return nil, err
	}
	next := *existing
	next.Metadata, next.CognitoClientName, next.Scopes = n.md, n.spec.Name, n.spec.Scopes
	next.LoopbackCallbacks = retainCallbacks(existing.LoopbackCallbacks, n.md, s.callbackLimit(n.md))
	next.Version = existing.Version + 1
	if ttl := s.rules.RegistrationTTL; ttl > 0 {
		next.ExpiresAt = s.now().UTC().Add(ttl)
	}
	spec := specOf(&next)
	if err := s.apps.Update(ctx, existing.ClientID, spec); err != nil {
		return nil, serverError("could not update the app client", fmt.Errorf("update app client %s: %w", existing.ClientID, err))
	}
	err := s.store.Update(ctx, next)
	if errors.Is(err, ErrConflict) {
		cur, gerr := s.store.Get(ctx, existing.ClientID)
		if gerr != nil {
			return nil, serverError("could not read the registration", fmt.Errorf("get registration %s: %w", existing.ClientID, gerr))
		}
		if err := s.settle(ctx, existing.ClientID, spec); err != nil {
			return nil, err
		}
		return cur, nil
	}
	if err != nil {
		return nil, serverError("could not store the registration", fmt.Errorf("update registration %s: %w", existing.ClientID, err))
	}
	if err := s.settle(ctx, existing.ClientID, spec); err != nil {
		return nil, err
	}
	s.log.Info("dcr: metadata-document client updated", "client_id", next.ClientID, "client_id_url", next.CIMDURL)
	return &next, nil
}
