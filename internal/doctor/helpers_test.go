package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// namedHosts resolves made-up *.example.com names (which the httptest
// certificate covers) to httptest TLS servers; other addresses are dialled
// as they are.
type namedHosts struct {
	mu    sync.Mutex
	addrs map[string]string
	n     int
	once  sync.Once
	http  *http.Client
}

var testNet = &namedHosts{addrs: map[string]string{}}

// name gives srv a new https origin.
func (h *namedHosts) name(srv *httptest.Server) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	host := fmt.Sprintf("idp%d.example.com", h.n)
	h.addrs[host+":443"] = srv.Listener.Addr().String()
	h.once.Do(func() {
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		h.http = &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				h.mu.Lock()
				if real, ok := h.addrs[addr]; ok {
					addr = real
				}
				h.mu.Unlock()
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		}}
	})
	return "https://" + host
}

// testOpts are Options whose client reaches the named test servers.
func testOpts() Options {
	testNet.mu.Lock()
	defer testNet.mu.Unlock()
	return Options{HTTPClient: testNet.http}
}

// checksByName indexes a report's checks.
func checksByName(r *Report) map[string]Check {
	m := map[string]Check{}
	for _, c := range r.Checks {
		m[c.Name] = c
	}
	return m
}

func outcomes(r *Report) map[string]ClientPrediction {
	m := map[string]ClientPrediction{}
	for _, p := range r.Clients {
		m[p.Client] = p
	}
	return m
}

func wantCheck(t *testing.T, r *Report, name string, s Status, sub string) {
	t.Helper()
	c, ok := checksByName(r)[name]
	if !ok || c.Status != s || !strings.Contains(c.Detail, sub) {
		t.Errorf("check %s = %+v (present %v), want %s containing %q", name, c, ok, s, sub)
	}
}
