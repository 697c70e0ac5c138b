package devidp

import (
	"context"
	"errors"
	"slices"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// resolveClient returns the client a client_id names: a registered client,
// or, when clientID is an https URL (CIMD draft §3), the public client its
// Client ID Metadata Document describes. fresh forces a fetch of the
// document (through the fetcher's HTTP cache) even when the client is
// already known, as /authorize does so that a changed document takes
// effect; /token and /revoke fetch only a client they do not know (one
// evicted since its authorization). It returns nil and an error safe to
// show when the document cannot be used, nil and no error for an unknown
// registered id.
func (s *Server) resolveClient(ctx context.Context, clientID string, fresh bool) (*client, *oauthError) {
	if !cimd.IsURLClientID(clientID) {
		return s.lookupClient(clientID), nil
	}
	if !fresh {
		if c := s.lookupClient(clientID); c != nil {
			return c, nil
		}
	}
	return s.documentClient(ctx, clientID)
}

// documentClient fetches a Client ID Metadata Document with the fetcher
// (CIMD draft §5: https only, size cap, timeout, no redirects, an SSRF guard
// that refuses loopback and private hosts unless Options.CIMD allows
// loopback, and RFC 9111 caching) and stores the client it describes. Such
// a client is public (token_endpoint_auth_method "none", which the fetcher
// enforces) and, like every client here, must use PKCE S256. Its grant types
// are the document's grant_types restricted to authorization_code and
// refresh_token (default authorization_code, RFC 7591 §2), which must
// include authorization_code; response_types, when present, must include
// code. Its redirect URIs are the document's, kept whole: the local-only rule
// (validateRedirectURI) is applied to the one an authorization request uses,
// so a document that also lists https://vscode.dev/redirect still works with
// its loopback URI. The document's scope is NOT enforced (no client's is),
// and client_uri, logo_uri and jwks_uri are NOT fetched or compared.
func (s *Server) documentClient(ctx context.Context, clientID string) (*client, *oauthError) {
	doc, err := s.fetcher.Fetch(ctx, clientID)
	if err != nil {
		desc := "client metadata document could not be used"
		var be *bearer.Error
		if errors.As(err, &be) && be.Description != "" {
			desc = be.Description
		}
		s.log.Info("devidp: client metadata document refused", "client_id", clientID, "err", err)
		return nil, newErr(errInvalidClient, desc+" (client_id "+clientID+")")
	}
	md := doc.Metadata
	grants := []string{grantAuthorizationCode}
	if len(md.GrantTypes) > 0 {
		grants = slices.DeleteFunc(slices.Clone(md.GrantTypes), func(g string) bool {
			return g != grantAuthorizationCode && g != grantRefreshToken
		})
	}
	if !slices.Contains(grants, grantAuthorizationCode) {
		return nil, newErr(errInvalidClient, "client metadata document grant_types must include authorization_code")
	}
	if len(md.ResponseTypes) > 0 && !slices.Contains(md.ResponseTypes, "code") {
		return nil, newErr(errInvalidClient, "client metadata document response_types must include code")
	}
	c := &client{
		ID:           clientID,
		Name:         md.ClientName,
		RedirectURIs: slices.Clone(md.RedirectURIs),
		GrantTypes:   grants,
		AuthMethod:   authNone,
		IssuedAt:     s.now().Unix(),
		document:     true,
	}
	s.addClient(c)
	return c, nil
}
