package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcp-gateway/mcp-gateway/examples/internal/oauthcli"
)

// fetcher returns the go-sdk AuthorizationCodeFetcher: it arms the
// loopback receiver cb for the request's state, prints the authorization
// URL as "open: <url>" on its own line, opens the system browser unless
// noBrowser, and waits for the redirect (a response with another state is
// refused and ignored by cb). The iss parameter (RFC 9207) is passed on:
// the go-sdk compares it with the issuer. It records the request's
// resource in g for the refresh.
func fetcher(cb *oauthcli.Callback, steps *oauthcli.Steps, noBrowser bool, cimdURL string, g *grant) auth.AuthorizationCodeFetcher {
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		u, err := url.Parse(args.URL)
		if err != nil {
			return nil, fmt.Errorf("authorization URL: %w", err)
		}
		q := u.Query()
		// OpenID Connect Core §11: offline_access is ignored unless the
		// user is asked for consent, so ask for it when requesting it.
		if strings.Contains(" "+q.Get("scope")+" ", " offline_access ") && q.Get("prompt") == "" {
			q.Set("prompt", "consent")
			u.RawQuery = q.Encode()
		}
		how := "dynamic client registration"
		if cimdURL != "" && q.Get("client_id") == cimdURL {
			how = "client ID metadata document"
		}
		g.setResource(q.Get("resource"))
		cb.Expect(q.Get("state"))
		steps.Step("authorization request: client_id=%s (%s), PKCE %s, resource=%s, scope=%q, redirect_uri=%s",
			q.Get("client_id"), how, q.Get("code_challenge_method"), q.Get("resource"), q.Get("scope"), q.Get("redirect_uri"))
		steps.Open(u.String(), !noBrowser)
		res, err := cb.Wait(ctx)
		if err != nil {
			steps.Step("redirect to %s: %v", cb.RedirectURI(), err)
			return nil, err
		}
		steps.Step("redirect to %s: code received, state matches, iss=%s", cb.RedirectURI(), oauthcli.OrNone(res.Iss))
		return &auth.AuthorizationResult{Code: res.Code, State: res.State, Iss: res.Iss}, nil
	}
}
