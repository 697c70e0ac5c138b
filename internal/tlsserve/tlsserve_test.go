package tlsserve_test

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/tlsserve"
)

// server is an HTTPS server with a reloader's configuration (httptest's
// own certificate would take precedence over GetCertificate).
type server struct{ URL string }

// serve starts an HTTPS server with r's configuration.
func serve(t *testing.T, r *tlsserve.Reloader) server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: tlsserve.HSTS(true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "ok")
		})),
		TLSConfig: r.Config(),
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return server{URL: "https://" + ln.Addr().String()}
}

// serial connects with a fresh connection and returns the serial number
// of the certificate the server presented.
func serial(t *testing.T, url string, files testkit.TLSFiles) int64 {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: files.Pool}, DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != tlsserve.HSTSValue {
		t.Errorf("Strict-Transport-Security = %q, want %q", got, tlsserve.HSTSValue)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
}

func TestReloadsARotatedCertificateWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	clock := testkit.NewClock(time.Unix(1_700_000_000, 0))
	first := testkit.WriteSelfSignedCert(t, dir, 1)
	r, err := tlsserve.NewReloader(tlsserve.Options{CertFile: first.CertFile, KeyFile: first.KeyFile, CheckInterval: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, r)
	if got := serial(t, srv.URL, first); got != 1 {
		t.Fatalf("serial = %d, want 1", got)
	}

	second := testkit.WriteSelfSignedCert(t, dir, 2)
	// A size/mtime change is noticed at the next check, not before.
	if got := serial(t, srv.URL, first); got != 1 {
		t.Fatalf("before the check interval: serial = %d, want 1", got)
	}
	clock.Advance(time.Minute)
	if got := serial(t, srv.URL, second); got != 2 {
		t.Fatalf("after rotation: serial = %d, want 2", got)
	}
}

func TestKeepsTheLastGoodCertificateWhenTheNewPairDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	clock := testkit.NewClock(time.Unix(1_700_000_000, 0))
	first := testkit.WriteSelfSignedCert(t, dir, 1)
	r, err := tlsserve.NewReloader(tlsserve.Options{CertFile: first.CertFile, KeyFile: first.KeyFile, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, r)
	// Half a rotation: a new key, the old certificate.
	other := testkit.WriteSelfSignedCert(t, t.TempDir(), 3)
	key, err := os.ReadFile(other.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(first.KeyFile, append(key, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if got := serial(t, srv.URL, first); got != 1 {
		t.Fatalf("serial = %d, want the last good certificate (1)", got)
	}
	// Completing the rotation is picked up at the next check.
	second := testkit.WriteSelfSignedCert(t, dir, 2)
	clock.Advance(time.Hour)
	if got := serial(t, srv.URL, second); got != 2 {
		t.Fatalf("serial = %d, want 2", got)
	}
}

func TestRefusesTLSBelow1_2(t *testing.T) {
	files := testkit.WriteSelfSignedCert(t, t.TempDir(), 1)
	r, err := tlsserve.NewReloader(tlsserve.Options{CertFile: files.CertFile, KeyFile: files.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, r)
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: files.Pool, MinVersion: v, MaxVersion: v}}}
		if resp, err := c.Get(srv.URL); err == nil {
			resp.Body.Close()
			t.Errorf("TLS version %x: handshake succeeded, want refused", v)
		}
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: files.Pool, MaxVersion: tls.VersionTLS12}}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("TLS 1.2: %v", err)
	}
	resp.Body.Close()
}

func TestMissingFilesAreAStartupError(t *testing.T) {
	_, err := tlsserve.NewReloader(tlsserve.Options{CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"})
	if err == nil {
		t.Fatal("NewReloader succeeded without files")
	}
}

func TestHSTSOnlyWhenOn(t *testing.T) {
	h := tlsserve.HSTS(false, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("Strict-Transport-Security = %q with HSTS off", got)
	}
}
