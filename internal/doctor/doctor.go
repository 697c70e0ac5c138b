// Package doctor probes the authorization servers and key set a gateway
// configuration points at, checks the configuration against what the
// identity provider actually publishes, verifies a real access token with
// the gateway's own verifier and explains each claim that fails, and
// predicts what each common MCP client will hit when it tries to log in
// (hosted clients such as claude.ai and ChatGPT connect from the internet,
// so a loopback or private gateway fails them). It backs `mcp-gateway
// doctor`.
//
// By default it only GETs metadata and key sets. The resource-parameter
// probe (RFC 8707) runs only when asked (see [ProbeOptions]): one pushed or
// plain authorization request, and with Register a client registration and
// its deletion. Every outgoing request carries the caller's context, a 10
// second timeout and a 1 MiB response cap, and only http and https URLs are
// fetched. Not checked: revocation, sender-constrained tokens (DPoP, mTLS),
// and whether a public name resolves to a private address.
package doctor

import (
	"context"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Status is the outcome of one check or one client prediction.
type Status int

// The statuses, from best to worst.
const (
	// OK means nothing to do.
	OK Status = iota
	// Warn means it works for some clients or setups, or needs attention.
	Warn
	// Fail means it is broken: tokens will be refused or clients cannot log in.
	Fail
)

// String returns "OK", "WARN" or "FAIL".
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return "?"
}

// Options tune how [Run] probes; the zero value is ready to use and sends
// nothing but GET requests for metadata and keys.
type Options struct {
	// HTTPClient makes the requests; nil means a client with a 10s timeout.
	HTTPClient *http.Client
	// Token is an access token to verify against every route, as the
	// gateway would (see [Run]); "" skips. It is never printed, nor is its
	// signature.
	Token string
	// ClientIDs is the client-id allowlist as the gateway builds it
	// (allowed_client_ids and client_ids_table); nil means
	// allowed_client_ids alone, and a configured client_ids_table is then
	// reported as not consulted.
	ClientIDs authn.ClientIDAllower
	// Now is the clock tokens are judged by; nil means time.Now.
	Now func() time.Time
	// Getenv reads the variables token exchange routes name for their
	// credentials (only whether they are set); nil means os.Getenv.
	Getenv func(string) string
	// Probe enables the resource-parameter probe; the zero value probes
	// nothing and the check reports what it could infer.
	Probe ProbeOptions
}

// ProbeOptions say how to ask the first authorization server whether it
// accepts the RFC 8707 resource parameter. An authorization server judges
// the client before the resource, so the probe needs a client it knows. The
// probe is one pushed authorization request (RFC 9126) when the server
// offers it and the client is public, otherwise one authorization request
// (GET, redirects not followed except to forward the request to another
// authorization server): no user logs in and no code is redeemed. What it
// leaves behind is what any abandoned login leaves: a request or login
// session that expires on its own, or, at an authorization server that
// auto-approves (the development one), an unused code.
type ProbeOptions struct {
	// ClientID is a client registered at the authorization server.
	ClientID string
	// RedirectURI is one of that client's registered redirect URIs; empty
	// sends none (servers accept that for a client with a single one).
	RedirectURI string
	// Register, when ClientID is empty, registers a throwaway public client
	// (loopback redirect URI, authorization_code only) at the server's
	// registration endpoint (RFC 7591) for the probe, then deletes it
	// (RFC 7592) when the server allows it; otherwise the report names the
	// client left behind. This changes state at the server: it is never
	// done unless asked.
	Register bool
}

// Check is one finding.
type Check struct {
	// Name is a short label such as "discovery" or "pkce".
	Name string
	// Status is the verdict.
	Status Status
	// Detail says what was found and, when not OK, what to do.
	Detail string
}

// ClientPrediction is what one MCP client is expected to hit, derived from
// the published metadata and known client behaviour.
type ClientPrediction struct {
	// Client names the client, e.g. "Claude Code".
	Client string
	// Outcome is OK (should work), Warn (works with extra setup or depends on
	// the client version) or Fail (will not log in as is).
	Outcome Status
	// Why explains the outcome.
	Why string
}

// Report is the result of [Run].
type Report struct {
	// Checks are the findings in the order they were made.
	Checks []Check
	// Clients are the predictions, one per known client.
	Clients []ClientPrediction
}

// Failed reports whether any check failed. Client predictions do not count.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

func (r *Report) add(name string, s Status, detail string) {
	r.Checks = append(r.Checks, Check{Name: name, Status: s, Detail: detail})
}

// Run probes every authorization server, the key set and the configuration,
// checks whether the first authorization server accepts the resource
// parameter (see [ProbeOptions]), verifies o.Token when given, and predicts
// each client's outcome. cfg is the loaded configuration, the same one
// `mcp-gateway serve` uses (config.Load's result: defaults applied and
// validated); Run reads it and does not change it. Run never returns nil;
// problems, including unreachable servers, are reported as failed checks.
//
// The token is judged by the gateway's own verifier (internal/authn, built
// from cfg as serve builds it) for each route, and its claims are decoded
// separately, never trusted, only to explain a refusal: the verdict is the
// verifier's, and a refusal doctor cannot explain is reported with the
// verifier's reason.
func Run(ctx context.Context, cfg *config.Config, o Options) *Report {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	f := newFetcher(o.HTTPClient)
	r := &Report{}
	servers := cfg.AuthorizationServers
	if len(servers) == 0 && cfg.Issuer != "" {
		servers = []string{cfg.Issuer}
	}
	if len(servers) == 0 {
		r.add("config", Fail, "neither issuer nor authorization_servers is set")
	}
	probes := map[string]*asProbe{}
	for _, as := range servers {
		discovery := ""
		if as == cfg.Issuer {
			discovery = cfg.DiscoveryURL
		}
		p := probeAS(ctx, f, as, discovery)
		probes[as] = p
		label := ""
		if len(servers) > 1 {
			label = " [" + as + "]"
		}
		checkAS(r, p, cfg, label)
	}
	keys := checkJWKS(ctx, r, f, cfg, probes)
	checkConfig(r, cfg)
	var first *asProbe
	if len(servers) > 0 {
		first = probes[servers[0]]
	}
	var issuerMeta *oauthmeta.AuthorizationServerMetadata
	if p := probes[cfg.Issuer]; p != nil {
		issuerMeta = p.meta
	}
	checkExchange(r, cfg, issuerMeta, o.Getenv)
	var tok *tokenParts
	if o.Token != "" {
		tok = decodeToken(o.Token)
	}
	env := clientEnv{
		reach:    hostedReach(cfg.PublicURL, first),
		resource: checkResource(ctx, r, cfg, first, o, tok),
	}
	if tok != nil {
		checkToken(ctx, r, cfg, o, keys, tok)
	}
	r.Clients = predict(first, env)
	return r
}

// isCognito reports whether the configuration or the issuer looks like Amazon Cognito.
func isCognito(cfg *config.Config) bool {
	return cfg.Provider == "cognito" || strings.Contains(cfg.Issuer, "cognito-idp.")
}
