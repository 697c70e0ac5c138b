package cimd

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// docHost is a local metadata host: an https server on 127.0.0.1 that
// serves the testdata document (with its own URL as client_id) and
// variations, and counts requests per path.
type docHost struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
	// headers are extra response headers per path.
	headers map[string]http.Header
}

func newDocHost(t *testing.T) *docHost {
	t.Helper()
	tmpl, err := os.ReadFile("testdata/client.json")
	if err != nil {
		t.Fatal(err)
	}
	h := &docHost{hits: map[string]int{}, headers: map[string]http.Header{}}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits[r.URL.Path]++
		for k, v := range h.headers[r.URL.Path] {
			w.Header()[k] = v
		}
		h.mu.Unlock()
		self := "https://" + r.Host + r.URL.Path
		doc := strings.ReplaceAll(string(tmpl), "{{URL}}", self)
		ct := "application/json"
		switch r.URL.Path {
		case "/mismatch.json":
			doc = strings.ReplaceAll(string(tmpl), "{{URL}}", self+"x")
		case "/no-redirects.json":
			doc = strings.Replace(doc, `"redirect_uris"`, `"other_uris"`, 1)
		case "/big.json":
			doc = strings.Replace(doc, `"software_id"`, `"pad": "`+strings.Repeat("x", 6000)+`", "software_id"`, 1)
		case "/text.json":
			ct = "text/plain"
		case "/plus.json":
			ct = "application/client-metadata+json; charset=utf-8"
		case "/claude-code.json":
			doc = claudeCodeDoc(self)
		case "/vscode.json":
			doc = vscodeDoc(self)
		case "/missing.json":
			http.NotFound(w, r)
			return
		case "/redirect.json":
			http.Redirect(w, r, "/client.json", http.StatusFound)
			return
		case "/secret.json":
			doc = strings.Replace(doc, `"software_id"`, `"client_secret": "s3cret", "software_id"`, 1)
		case "/jwt.json":
			doc = strings.Replace(doc, `"none"`, `"private_key_jwt"`, 1)
		case "/basic.json":
			doc = strings.Replace(doc, `"none"`, `"client_secret_basic"`, 1)
		case "/trailing.json":
			doc += "{}"
		case "/array.json":
			doc = "[" + doc + "]"
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write([]byte(doc))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// claudeCodeDoc is shaped like Claude Code's published metadata document:
// portless loopback redirect URIs; Claude Code sends an ephemeral port.
func claudeCodeDoc(self string) string {
	return `{"client_id": "` + self + `", "client_name": "Claude Code",
  "redirect_uris": ["http://localhost/callback", "http://127.0.0.1/callback"],
  "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
  "token_endpoint_auth_method": "none"}`
}

// vscodeDoc is shaped like VS Code's published metadata document: a portless
// loopback root and the vscode.dev web redirect.
func vscodeDoc(self string) string {
	return `{"client_id": "` + self + `", "client_name": "Visual Studio Code",
  "redirect_uris": ["http://127.0.0.1/", "https://vscode.dev/redirect"],
  "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
  "token_endpoint_auth_method": "none"}`
}

// url returns the document URL for path on the loopback host.
func (h *docHost) url(path string) string { return h.srv.URL + path }

func (h *docHost) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

func (h *docHost) setHeader(path, k, v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.headers[path] == nil {
		h.headers[path] = http.Header{}
	}
	h.headers[path].Set(k, v)
}

// pool trusts the host's certificate.
func (h *docHost) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(h.srv.Certificate())
	return p
}

// testFetcher is a Fetcher in loopback test mode that trusts h.
func testFetcher(h *docHost, now func() time.Time) *Fetcher {
	return NewFetcher(FetcherOptions{InsecureAllowLoopback: true, RootCAs: h.pool(), Now: now})
}

// newClock is the fetch tests' clock, at a fixed instant.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
}

// httpDate formats the clock's time plus d as an HTTP date.
func httpDate(c *testkit.Clock, d time.Duration) string {
	return c.Now().Add(d).Format(http.TimeFormat)
}

// fakeRegistrar maps every document to "mappedclient123" and records calls;
// errs holds an error to return per client_id URL; known are the
// registrations Lookup finds; useErr fails UseRedirectURI. Like the
// service, it asks the gate before a write: mapping a URL it has not
// mapped yet (mapped), and a redirect URI the registration does not list.
type fakeRegistrar struct {
	mu     sync.Mutex
	calls  []string
	mds    []dcr.ClientMetadata
	errs   map[string]error
	known  map[string]*dcr.Registration
	mapped map[string]bool
	used   []string
	useErr error
}

var _ Registrar = (*fakeRegistrar)(nil)

func (f *fakeRegistrar) RegisterCIMD(_ context.Context, u string, md dcr.ClientMetadata, gate dcr.WriteGate) (*dcr.Registration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, u)
	f.mds = append(f.mds, md)
	if err := f.errs[u]; err != nil {
		return nil, err
	}
	if !f.mapped[u] {
		if err := ask(gate); err != nil {
			return nil, err
		}
		if f.mapped == nil {
			f.mapped = map[string]bool{}
		}
		f.mapped[u] = true
	}
	return &dcr.Registration{ClientID: "mappedclient123", Metadata: md, Source: "cimd", CIMDURL: u,
		Scopes: strings.Fields(md.Scope)}, nil
}

func (f *fakeRegistrar) Lookup(_ context.Context, clientID string) (*dcr.Registration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs[clientID]; err != nil {
		return nil, err
	}
	return f.known[clientID], nil
}

func (f *fakeRegistrar) UseRedirectURI(_ context.Context, reg *dcr.Registration, uri string, gate dcr.WriteGate) (*dcr.Registration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.used = append(f.used, reg.ClientID+" "+uri)
	if f.useErr != nil {
		return nil, f.useErr
	}
	if !reg.ListsCallback(uri) {
		if err := ask(gate); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// ask asks gate, allowing everything when it is nil.
func ask(gate dcr.WriteGate) error {
	if gate == nil {
		return nil
	}
	return gate()
}

func (f *fakeRegistrar) isMapped(u string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mapped[u]
}

func (f *fakeRegistrar) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeRegistrar) uses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.used)
}

// asBearer returns the *bearer.Error in err or fails.
func asBearer(t *testing.T, err error) *bearer.Error {
	t.Helper()
	be := publicError(err)
	if be == nil {
		t.Fatalf("error %v carries no *bearer.Error", err)
	}
	return be
}
