// Package doctor probes the authorization servers and key set a gateway
// configuration points at, checks the configuration against what the
// identity provider actually publishes, and predicts what each common MCP
// client will hit when it tries to log in. It backs `mcp-gateway doctor`.
//
// Every outgoing request carries the caller's context, a 10 second timeout
// and a 1 MiB response cap, and only http and https URLs are fetched.
package doctor

import (
	"context"
	"net/http"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
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

// Options tune how [Run] probes; the zero value is ready to use.
type Options struct {
	// HTTPClient makes the requests; nil means a client with a 10s timeout.
	HTTPClient *http.Client
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
// and predicts each client's outcome. cfg is the loaded configuration, the
// same one `mcp-gateway serve` uses (config.Load's result: defaults applied
// and validated); Run reads it and does not change it. Run never returns
// nil; problems, including unreachable servers, are reported as failed
// checks.
func Run(ctx context.Context, cfg *config.Config, o Options) *Report {
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
	checkJWKS(ctx, r, f, cfg, probes)
	checkConfig(r, cfg)
	var first *asProbe
	if len(servers) > 0 {
		first = probes[servers[0]]
	}
	r.Clients = predict(first)
	return r
}

// isCognito reports whether the configuration or the issuer looks like Amazon Cognito.
func isCognito(cfg *config.Config) bool {
	return cfg.Provider == "cognito" || strings.Contains(cfg.Issuer, "cognito-idp.")
}
