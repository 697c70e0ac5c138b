// Package upstream is what the gateway serves once a request is authorized.
// This package is the built-in MCP server (tools whoami and echo, on the
// official go-sdk); its subpackages front other MCP servers and carry what
// they share: httpproxy (Streamable HTTP and legacy HTTP+SSE upstreams),
// stdio (a process per session), authz (per-tool, resource and prompt
// scopes), call (the request's principal and parsed body) and identity
// (what an upstream learns of the caller).
package upstream

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// BuiltinOptions configure [NewBuiltin].
type BuiltinOptions struct {
	// Version is reported as serverInfo.version.
	Version string
	// SessionTimeout closes idle sessions (default 30m).
	SessionTimeout time.Duration
	// Logger receives SDK transport logs.
	Logger *slog.Logger
}

// Identity is what whoami returns: the verified principal, never the token.
type Identity struct {
	Subject   string   `json:"subject"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	Scopes    []string `json:"scopes"`
	Issuer    string   `json:"issuer"`
	Audience  []string `json:"audience,omitempty"`
	ExpiresAt string   `json:"expires_at"`
}

// EchoArgs are the echo tool's arguments.
type EchoArgs struct {
	Message string `json:"message" jsonschema:"the text to send back"`
}

// EchoResult is the echo tool's structured result.
type EchoResult struct {
	Message string `json:"message"`
}

// NewBuiltin returns the Streamable HTTP handler of the gateway's own MCP
// server with the tools whoami and echo. It serves every protocol version the
// official go-sdk supports (2024-11-05 through 2026-07-28): requests of the
// sessionless 2026-07-28 generation go to a stateless handler, older ones to
// a stateful one with Mcp-Session-Id sessions. Each session is
// bound to the principal (issuer and subject) that created it; the SDK
// refuses another principal presenting its Mcp-Session-Id with 403.
//
// It declares exactly what it serves, in initialize and server/discover:
// the tools capability (without listChanged: the tool list never changes)
// and nothing else; prompts, resources and their templates, logging and
// completions methods get -32601 (see [servedCapabilities]).
//
// The handler must sit behind the gateway's bearer middleware and call.Read
// (see [WithSDKIdentity]): without a principal every request is refused
// with 401, and a POST whose body call.Read did not read with 500. The body
// is capped there, once; the SDK reads the bytes call.Read replays.
func NewBuiltin(o BuiltinOptions) http.Handler {
	return newBuiltin(o, func(srv *mcp.Server) {
		for _, t := range builtinTools() {
			srv.AddTool(t.tool, t.handler)
		}
	})
}

// newBuiltin is NewBuiltin with the tools that addTools registers (tests
// compare the tools against their mcp.AddTool registration).
func newBuiltin(o BuiltinOptions, addTools func(*mcp.Server)) http.Handler {
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 30 * time.Minute
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "mcp-gateway", Title: "MCP Gateway built-in tools", Version: o.Version},
		&mcp.ServerOptions{
			Instructions: "Built-in tools of mcp-gateway: whoami shows the identity the gateway verified; echo returns its input.",
			Capabilities: servedCapabilities(),
		})
	srv.AddReceivingMiddleware(onlyDeclared(servedCapabilities()))
	addTools(srv)
	getServer := func(*http.Request) *mcp.Server { return srv }
	opts := mcp.StreamableHTTPOptions{
		SessionTimeout: o.SessionTimeout,
		// call.Read in front capped the body; WithSDKIdentity refuses a
		// POST it did not read.
		MaxRequestBodyBytes: -1,
		Logger:              o.Logger,
		// The gateway validates Origin itself and may sit behind a proxy
		// whose Host is not loopback.
		DisableLocalhostProtection: true,
	}
	stateless := opts
	stateless.Stateless = true
	h := byProtocolGeneration(
		mcp.NewStreamableHTTPHandler(getServer, &opts),
		mcp.NewStreamableHTTPHandler(getServer, &stateless),
	)
	return WithSDKIdentity(h)
}

func whoami(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, Identity, error) {
	p := PrincipalFromSDK(req.Extra.TokenInfo)
	if p == nil {
		return nil, Identity{}, errNoPrincipal
	}
	return nil, Identity{
		Subject: p.Subject, ClientID: p.ClientID, Username: p.Username,
		Scopes: nonNil(p.Scopes), Issuer: p.Issuer, Audience: p.Audience,
		ExpiresAt: p.Expiry.UTC().Format(time.RFC3339),
	}, nil
}

func echo(_ context.Context, _ *mcp.CallToolRequest, in EchoArgs) (*mcp.CallToolResult, EchoResult, error) {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, EchoResult(in), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// sdkPrincipalKey is the TokenInfo.Extra key holding the *authn.Principal.
const sdkPrincipalKey = "principal"

// WithSDKIdentity hands the principal that the gateway's front stored in
// the request context (call.PrincipalFrom) to the go-sdk (auth.TokenInfo),
// which binds sessions to TokenInfo.UserID and passes TokenInfo to tool
// handlers. The SDK exposes no setter for its context key, so its own
// RequireBearerToken is used with a verifier that only reads the
// already-verified principal: the token is not parsed again. A POST must
// carry the body call.Read parsed (else 500: the body would be uncapped);
// the SDK then reads the bytes call.Read replays.
func WithSDKIdentity(next http.Handler) http.Handler {
	sdk := auth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		p := call.PrincipalFrom(ctx)
		if p == nil {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{
			UserID:     p.Issuer + "|" + p.Subject,
			Scopes:     p.Scopes,
			Expiration: p.Expiry,
			Extra:      map[string]any{sdkPrincipalKey: p},
		}, nil
	}, &auth.RequireBearerTokenOptions{ClockSkew: 5 * time.Minute})(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && call.From(r.Context()).Body == nil && call.PrincipalFrom(r.Context()) != nil {
			mcpwire.WriteError(w, mcpwire.Errorf(http.StatusInternalServerError, mcpwire.CodeInternalError, nil, "the gateway did not read the request body"))
			return
		}
		sdk.ServeHTTP(w, r)
	})
}

// PrincipalFromSDK returns the principal carried by a go-sdk TokenInfo.
func PrincipalFromSDK(ti *auth.TokenInfo) *authn.Principal {
	if ti == nil {
		return nil
	}
	p, _ := ti.Extra[sdkPrincipalKey].(*authn.Principal)
	return p
}

// byProtocolGeneration sends requests whose MCP-Protocol-Version header names
// the sessionless generation (mcpwire.Sessionless) to stateless and
// everything else, including the header-less initialize of 2025 clients, to
// stateful.
func byProtocolGeneration(stateful, stateless http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mcpwire.Sessionless(r.Header.Get(mcpwire.HeaderProtocolVersion)) {
			stateless.ServeHTTP(w, r)
			return
		}
		stateful.ServeHTTP(w, r)
	})
}
