package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/tlsserve"
)

// TestServeTerminatesTLS: with tls_cert_file and tls_key_file the gateway
// serves HTTPS itself (no proxy in front), TLS 1.2 at least, with HSTS,
// and an MCP client calls a tool over it.
func TestServeTerminatesTLS(t *testing.T) {
	iss := authntest.NewIssuer(t)
	files := testkit.WriteSelfSignedCert(t, t.TempDir(), 7)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	public := "https://" + addr
	cfg, err := config.Load(config.LoadOptions{DotEnv: os.DevNull, Environ: []string{
		"MCPGW_LISTEN=" + addr, "MCPGW_PUBLIC_URL=" + public, "MCPGW_ISSUER=" + iss.URL,
		"MCPGW_TLS_CERT_FILE=" + files.CertFile, "MCPGW_TLS_KEY_FILE=" + files.KeyFile, "MCPGW_AUDIT_LOG=off"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(cfg, slog.New(slog.DiscardHandler), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: files.Pool}}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
		resp, err := hc.Get(public + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "the gateway to be ready over https")
	resp, err := hc.Get(public + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("not served over TLS 1.2+: %+v", resp.TLS)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != tlsserve.HSTSValue {
		t.Errorf("Strict-Transport-Security = %q, want %q", got, tlsserve.HSTSValue)
	}
	if got := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); got != 7 {
		t.Errorf("certificate serial = %d, want the configured file's (7)", got)
	}
	// Plain http on the TLS port is refused, never served.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain http was served on the TLS listener")
		}
	}

	resource := gateway.ResourceURL(public, "/mcp")
	client := &http.Client{Transport: tokenTransport{token: iss.Mint(iss.Claims(resource)), base: tr}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: resource, HTTPClient: client, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami over https: %v %+v", err, res)
	}
}
