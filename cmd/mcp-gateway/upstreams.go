package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/httpproxy"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/stdio"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// sessionKey is the HMAC key of gateway session ids: session_secret, or a
// random key (then sessions survive only on this process).
func sessionKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.SessionSecret != "" {
		return []byte(cfg.SessionSecret), nil
	}
	for _, r := range cfg.Routes {
		if r.Kind() == config.KindHTTP {
			log.Warn("session_secret is not set: HTTP-upstream sessions are bound to this process (set it to share sessions across replicas)")
			break
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// routeHandler builds what a route serves once authorized: the upstream
// (built-in tools, an HTTP MCP server, or a stdio process per session)
// behind the per-tool scope middleware; gateway.New mounts the one body
// reader (call.Read, capped at max_body_bytes) in front of it. A stdio
// route's process gets the caller's identity as environment variables
// unless its identity is none (identity.ForStdio). The closer stops the
// upstream's streams and processes at shutdown; it may be nil.
func routeHandler(cfg *config.Config, rc config.Route, required []string, key []byte, getenv func(string) string, log *slog.Logger) (http.Handler, io.Closer, error) {
	resource := gateway.ResourceURL(cfg.PublicURL, rc.Path)
	log = log.With("route", rc.Path)
	var (
		h      http.Handler
		closer io.Closer
	)
	switch rc.Kind() {
	case config.KindBuiltin:
		h = upstream.NewBuiltin(upstream.BuiltinOptions{Version: version, Logger: log})
	case config.KindHTTP:
		inj, err := upstreamIdentity(cfg, rc, resource, getenv)
		if err != nil {
			return nil, nil, err
		}
		p, err := httpproxy.New(httpproxy.Options{
			URL: rc.Upstream, Transport: rc.Transport, RouteID: rc.Path, SessionKey: key,
			Timeout: rc.Timeout, Identity: inj, Logger: log,
		})
		if err != nil {
			return nil, nil, err
		}
		h, closer = p, p
	case config.KindStdio:
		s, err := stdio.New(stdio.Options{
			Command: rc.Command(), Env: rc.Env, Dir: rc.Dir, MaxProcesses: rc.MaxProcesses,
			MaxProcessesPerPrincipal: rc.MaxProcessesPerPrincipal, Timeout: rc.Timeout,
			Identity: identity.ForStdio(rc.Identity), Logger: log,
		})
		if err != nil {
			return nil, nil, err
		}
		h, closer = s, s
	}
	metaURL, err := oauthmeta.ProtectedResourceMetadataURL(resource)
	if err != nil {
		return nil, nil, err
	}
	mw, err := authz.New(authz.Policy{Tools: rc.ToolScopes, Resources: rc.ResourceScopes, Prompts: rc.PromptScopes}, authz.Options{
		RequiredScopes: required,
		Logger:         log,
		Deny: func(w http.ResponseWriter, _ *http.Request, scopes []string) {
			bearer.WriteError(w, bearer.ErrInsufficientScope(scopes), metaURL, nil)
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("tool_scopes: %w", err)
	}
	return mw.Wrap(h), closer, nil
}
