// Command gosdk is a comparison peer for make bench: the official MCP Go
// SDK's Streamable HTTP handler (stateful sessions, the SDK's default SSE
// response mode) serving one tool, "echo", at /mcp.
//
// With BENCH_AUTH=none it is an unauthenticated MCP server: the upstream
// the gateway fronts and the "direct" baseline. With BENCH_AUTH=go-oidc it
// is what a Go developer writes in an afternoon to protect it: go-oidc's
// discovery and verifier (issuer, audience, expiry, signature against the
// discovered JWKS, which go-oidc caches and refetches on an unknown kid)
// wrapped as the go-sdk's auth.RequireBearerToken, with BENCH_SCOPE
// required. Nothing else is cached. Not checked: the token's typ (go-oidc
// verifies ID tokens and ignores it), nbf beyond go-oidc's own leeway.
//
// Environment: BENCH_LISTEN (host:port), BENCH_AUTH (none or go-oidc), and
// for go-oidc BENCH_ISSUER, BENCH_AUDIENCE, BENCH_SCOPE (empty: none).
// Once listening it prints "ready http://HOST:PORT/mcp" on stdout; SIGTERM
// or SIGINT stops it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoInput struct {
	Message string `json:"message" jsonschema:"the text to return"`
}

func echo(_ context.Context, _ *mcp.CallToolRequest, in echoInput) (*mcp.CallToolResult, any, error) {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gosdk: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	server := mcp.NewServer(&mcp.Implementation{Name: "bench-gosdk", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Returns the message."}, echo)
	var handler http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)

	switch mode := os.Getenv("BENCH_AUTH"); mode {
	case "none":
	case "go-oidc":
		// The provider's key set fetches keys with this context for its
		// whole life, so it must outlive startup.
		verify, err := oidcVerifier(context.Background(), os.Getenv("BENCH_ISSUER"), os.Getenv("BENCH_AUDIENCE"))
		if err != nil {
			return err
		}
		handler = auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{
			Scopes: strings.Fields(os.Getenv("BENCH_SCOPE")),
		})(handler)
	default:
		return fmt.Errorf("BENCH_AUTH=%q: want none or go-oidc", mode)
	}

	mux := http.NewServeMux()
	mux.Handle("/mcp", handler)
	ln, err := net.Listen("tcp", os.Getenv("BENCH_LISTEN"))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("ready http://%s/mcp\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// SSE streams stay open; do not wait long for them.
	shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// oidcVerifier discovers issuer and returns a TokenVerifier accepting
// tokens go-oidc verifies for audience, with their scope claim as scopes.
func oidcVerifier(ctx context.Context, issuer, audience string) (auth.TokenVerifier, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, err
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: audience})
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		t, err := verifier.Verify(ctx, token)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		var claims struct {
			Scope string `json:"scope"`
		}
		if err := t.Claims(&claims); err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		return &auth.TokenInfo{Scopes: strings.Fields(claims.Scope), Expiration: t.Expiry, UserID: t.Subject}, nil
	}, nil
}
