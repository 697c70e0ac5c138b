package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// corsAllowHeaders are the request headers MCP clients send (MCP transports;
// 2026-07-28 adds Mcp-Method and Mcp-Name).
const corsAllowHeaders = "Authorization, Content-Type, Accept, " + mcpwire.HeaderSessionID + ", " + mcpwire.HeaderProtocolVersion + ", " +
	mcpwire.HeaderLastEventID + ", " + mcpwire.HeaderMethod + ", " + mcpwire.HeaderName

// corsExposeHeaders are the response headers browser clients must read.
const corsExposeHeaders = "WWW-Authenticate, " + mcpwire.HeaderSessionID + ", " + mcpwire.HeaderProtocolVersion

// originPolicy implements the MCP transport rule "servers MUST validate the
// Origin header; if invalid, respond 403" and the matching CORS answers.
// Requests without Origin (non-browser clients) pass. It does not check the
// Host header: a browser that was DNS-rebound still sends the attacker's
// Origin, which this policy refuses.
type originPolicy struct {
	allowed  map[string]bool
	loopback bool
}

func newOriginPolicy(publicURL string, extra []string, loopback bool) (*originPolicy, error) {
	p := &originPolicy{allowed: map[string]bool{}, loopback: loopback}
	for _, o := range append([]string{publicURL}, extra...) {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("origin %q: not an absolute URL", o)
		}
		p.allowed[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return p, nil
}

func (p *originPolicy) allows(origin string) bool {
	if p.allowed[strings.ToLower(origin)] {
		return true
	}
	if !p.loopback {
		return false
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && config.IsLoopbackHost(u.Hostname())
}

// wrap refuses disallowed origins with 403 before authentication, answers
// CORS preflights, and adds CORS headers for allowed origins.
func (p *originPolicy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !p.allows(origin) {
			observe.Deny(r.Context(), observe.ReasonOrigin, "Origin not allowed")
			// The MCP transport lets this 403 carry a JSON-RPC error with no id.
			mcpwire.WriteError(w, mcpwire.Errorf(http.StatusForbidden, mcpwire.CodeServerError, nil, "Origin not allowed"))
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
