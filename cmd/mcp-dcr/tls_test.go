package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/tlsserve"
)

// TestServeTerminatesTLS: `mcp-dcr serve` with tls_cert_file and
// tls_key_file serves HTTPS itself (TLS 1.2 at least) with HSTS, so a
// single VM needs no proxy in front.
func TestServeTerminatesTLS(t *testing.T) {
	endpoint := testenv.StartMoto(t)
	api := cognitotest.NewAPI(t, endpoint)
	pool := cognitotest.NewPool(t, api)
	files := testkit.WriteSelfSignedCert(t, t.TempDir(), 9)
	port := testenv.FreePort(t)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	cfgFile := filepath.Join(t.TempDir(), "dcr.yaml")
	yaml := fmt.Sprintf(`listen: 127.0.0.1:%d
public_url: %s
region: %s
user_pool_id: %s
table: mcp-dcr-tls
aws_endpoint: %s
cognito_domain: https://auth.example.com
managed_login_branding: false
tls_cert_file: %s
tls_key_file: %s
log_level: warn
`, port, base, cognitotest.Region, pool, endpoint, files.CertFile, files.KeyFile)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, cfgFile)
	testkit.WaitContains(t, srv.out, "mcp-dcr listening on https://127.0.0.1:", testkit.DefaultTimeout)

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: files.Pool}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(base + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("metadata over https: status %d, tls %+v", resp.StatusCode, resp.TLS)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != tlsserve.HSTSValue {
		t.Errorf("Strict-Transport-Security = %q, want %q", got, tlsserve.HSTSValue)
	}
	if got := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); got != 9 {
		t.Errorf("certificate serial = %d, want 9", got)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}
