package mcpidentity_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// A Go MCP server behind mcp-gateway (route setting identity: hmac) checks
// who is calling. The key is the same environment value the gateway reads
// through identity_key_env; the audience is what the gateway signs for this
// upstream.
func Example() {
	key := []byte(os.Getenv("GATEWAY_IDENTITY_KEY"))
	if len(key) == 0 {
		key = []byte("example-key-example-key-example-key!") // for this example only
	}
	v, err := mcpidentity.NewHMACVerifier(key, "http://127.0.0.1:9000/mcp")
	if err != nil {
		log.Fatal(err)
	}
	mcpHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := mcpidentity.FromContext(r.Context())
		if !id.HasScope("files:write") {
			http.Error(w, "files:write needed", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "hello %s via client %s", id.Subject, id.ClientID)
	})
	upstream := mcpidentity.Middleware(v, mcpHandler) // serve this with http.ListenAndServe

	// What the gateway does for each request it forwards:
	s, _ := mcpidentity.NewHMACSigner(key, "http://127.0.0.1:9000/mcp")
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	_ = s.Sign(req.Header, mcpidentity.Identity{
		Subject: "alice", ClientID: "claude", Issuer: "https://idp.example.com",
		Scopes: []string{"files:read", "files:write"}, Expires: time.Now().Add(time.Hour),
	})
	rec := httptest.NewRecorder()
	upstream.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 hello alice via client claude
}

// With identity: jws the gateway holds an Ed25519 private key and the
// upstream only its public key, so the upstream cannot mint identities.
func ExampleNewJWSVerifier() {
	pubPEM := []byte(`-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
`)
	pub, err := mcpidentity.ParseEd25519PublicKeyPEM(pubPEM)
	if err != nil {
		log.Fatal(err)
	}
	v, err := mcpidentity.NewJWSVerifier(pub, "http://127.0.0.1:9000/mcp")
	if err != nil {
		log.Fatal(err)
	}
	_, err = v.Verify(http.Header{})
	fmt.Println(err)
	// Output: mcpidentity: no gateway identity
}
