// Command upstream-verify is a minimal MCP server meant to sit behind
// mcp-gateway: it accepts only requests carrying a gateway identity that
// verifies with pkg/mcpidentity, and its whoami tool returns that identity.
// It never sees the user's access token.
//
//	GATEWAY_IDENTITY_KEY=...  go run ./examples/upstream-verify   # route identity: hmac
//	GATEWAY_IDENTITY_PUBLIC_KEY="$(cat pub.pem)" go run ./examples/upstream-verify   # identity: jws
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

// Whoami is the whoami tool's result: what the gateway asserted.
type Whoami struct {
	Subject  string   `json:"subject"`
	ClientID string   `json:"client_id,omitempty"`
	Issuer   string   `json:"issuer"`
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
	Expires  string   `json:"expires"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to serve MCP on (path /mcp)")
	audience := flag.String("audience", "http://127.0.0.1:9000/mcp", "audience the gateway signs for (the route's upstream URL)")
	flag.Parse()
	v, err := verifierFromEnv(*audience, os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", newHandler(v))
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("MCP server on http://%s/mcp, audience %s", *listen, *audience)
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
	return nil, errors.New("set GATEWAY_IDENTITY_KEY (hmac) or GATEWAY_IDENTITY_PUBLIC_KEY (jws)")
}

// newHandler is the MCP Streamable HTTP handler wrapped in
// mcpidentity.Middleware: requests without a valid identity get 401.
func newHandler(v mcpidentity.Verifier) http.Handler {
	srv := mcp.NewServer(&mcp.Implementation{Name: "upstream-verify", Version: "0.1.0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{
		Name:        "whoami",
		Description: "Return the caller identity that mcp-gateway asserted and this server verified.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, Whoami, error) {
		// Tool handlers run in the MCP session's context, not the HTTP
		// request's, so verify the headers of this very request again
		// (cheap) instead of reading mcpidentity.FromContext.
		if req.Extra == nil {
			return nil, Whoami{}, errors.New("no HTTP request")
		}
		id, err := v.Verify(req.Extra.Header)
		if err != nil {
			return nil, Whoami{}, err
		}
		scopes := id.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		return nil, Whoami{
			Subject: id.Subject, ClientID: id.ClientID, Issuer: id.Issuer, Audience: id.Audience,
			Scopes: scopes, Expires: id.Expires.UTC().Format(time.RFC3339),
		}, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	return mcpidentity.Middleware(v, h)
}
