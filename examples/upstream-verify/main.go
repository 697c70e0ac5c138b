// Command upstream-verify is a minimal MCP server meant to sit behind
// mcp-gateway. It accepts only requests whose caller identity it can verify,
// and its whoami tool returns that identity. It has two modes:
//
//   - signed headers (route identity hmac or jws): every request must carry
//     a gateway identity that verifies with pkg/mcpidentity. The server never
//     sees the user's access token.
//
//   - exchanged token (route identity exchange or entra-obo; --issuer set):
//     every request must carry `Authorization: Bearer <token>` minted by the
//     IdP for this server's audience, verified as any OAuth resource server
//     would (see token.go).
//
//     GATEWAY_IDENTITY_KEY=...  go run ./examples/upstream-verify   # route identity: hmac
//     GATEWAY_IDENTITY_PUBLIC_KEY="$(cat pub.pem)" go run ./examples/upstream-verify   # identity: jws
//     go run ./examples/upstream-verify --issuer http://127.0.0.1:8081   # identity: exchange
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// Whoami is the whoami tool's result: the verified caller identity, in
// either mode.
type Whoami struct {
	Subject  string   `json:"subject"`
	ClientID string   `json:"client_id,omitempty"`
	Issuer   string   `json:"issuer"`
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
	// Actor is the RFC 8693 §4.1 `act.sub` of an exchanged token: the party
	// acting for Subject (the gateway's client at the IdP, for IdPs that
	// record it). Empty in signed-header mode and when the token has no act.
	Actor   string `json:"actor,omitempty"`
	Expires string `json:"expires"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to serve MCP on (path /mcp)")
	audience := flag.String("audience", "http://127.0.0.1:9000/mcp",
		"this server's identifier: the audience the gateway signs for (signed-header mode) or the `aud` the IdP puts in exchanged tokens (--issuer mode)")
	issuer := flag.String("issuer", "", "IdP issuer URL, exactly as in its discovery metadata; switches to exchanged-token mode (route identity exchange or entra-obo)")
	flag.Parse()
	mux := http.NewServeMux()
	if *issuer != "" {
		// The context bounds discovery only; keys are fetched later with
		// their own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		tv, err := newTokenVerifier(ctx, *issuer, *audience)
		cancel()
		if err != nil {
			log.Fatal(err)
		}
		resource := "http://" + *listen + "/mcp"
		h, err := newTokenHandler(tv, resource)
		if err != nil {
			log.Fatal(err)
		}
		mux.Handle("/", h)
		log.Printf("MCP server on %s, exchanged tokens from %s for audience %s", resource, *issuer, *audience)
	} else {
		v, err := verifierFromEnv(*audience, os.Getenv)
		if err != nil {
			log.Fatal(err)
		}
		mux.Handle("/mcp", newHandler(v))
		log.Printf("MCP server on http://%s/mcp, gateway-signed identity for audience %s", *listen, *audience)
	}
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// verifierFromEnv builds an HMAC verifier from GATEWAY_IDENTITY_KEY or a JWS
// verifier from the PEM in GATEWAY_IDENTITY_PUBLIC_KEY.
func verifierFromEnv(audience string, getenv func(string) string) (mcpidentity.Verifier, error) {
	if key := getenv("GATEWAY_IDENTITY_KEY"); key != "" {
		return mcpidentity.NewHMACVerifier([]byte(key), audience)
	}
	if pemText := getenv("GATEWAY_IDENTITY_PUBLIC_KEY"); pemText != "" {
		pub, err := mcpidentity.ParseEd25519PublicKeyPEM([]byte(pemText))
		if err != nil {
			return nil, err
		}
		return mcpidentity.NewJWSVerifier(pub, audience)
	}
	return nil, errors.New("set GATEWAY_IDENTITY_KEY (hmac) or GATEWAY_IDENTITY_PUBLIC_KEY (jws), or --issuer for exchanged tokens")
}

// newServer is the MCP server with its one tool, whoami, whose result is
// what identify returns for the tools/call request.
func newServer(identify func(*mcp.CallToolRequest) (Whoami, error)) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "upstream-verify", Version: "0.1.0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{
		Name:        "whoami",
		Description: "Return the caller identity that this server verified.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, Whoami, error) {
		who, err := identify(req)
		if err != nil {
			return nil, Whoami{}, err
		}
		if who.Scopes == nil {
			who.Scopes = []string{}
		}
		return nil, who, nil
	})
	return srv
}

// newHandler is the MCP Streamable HTTP handler wrapped in
// mcpidentity.Middleware: requests without a valid identity get 401.
func newHandler(v mcpidentity.Verifier) http.Handler {
	srv := newServer(func(req *mcp.CallToolRequest) (Whoami, error) {
		// Tool handlers run in the MCP session's context, not the HTTP
		// request's, so verify the headers of this very request again
		// (cheap) instead of reading mcpidentity.FromContext.
		if req.Extra == nil {
			return Whoami{}, errors.New("no HTTP request")
		}
		id, err := v.Verify(req.Extra.Header)
		if err != nil {
			return Whoami{}, err
		}
		return Whoami{
			Subject: id.Subject, ClientID: id.ClientID, Issuer: id.Issuer, Audience: id.Audience,
			Scopes: id.Scopes, Expires: id.Expires.UTC().Format(time.RFC3339),
		}, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	return mcpidentity.Middleware(v, h)
}
