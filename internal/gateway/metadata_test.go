package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

func TestProtectedResourceMetadataGolden(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, c := range []struct{ path, golden, resource string }{
		{"/.well-known/oauth-protected-resource/mcp", "prm_mcp.json", e.resource},
		{"/.well-known/oauth-protected-resource", "prm_root.json", e.public},
	} {
		resp, err := http.Get(e.public + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: status %d, CORS %q", c.path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		var doc oauthmeta.ProtectedResourceMetadata
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		// RFC 9728 §3.3: resource must equal the identifier the URL was built from.
		if doc.Resource != c.resource {
			t.Fatalf("%s: resource %q, want %q", c.path, doc.Resource, c.resource)
		}
		built, _ := oauthmeta.ProtectedResourceMetadataURL(doc.Resource)
		if built != e.public+c.path {
			t.Fatalf("metadata URL built from resource = %q, served at %q", built, e.public+c.path)
		}
		for _, s := range doc.ScopesSupported {
			if s == "offline_access" {
				t.Fatal("offline_access must not be advertised")
			}
		}
		body = strings.ReplaceAll(body, e.public, "PUBLIC")
		testkit.Golden(t, "testdata/"+c.golden, []byte(strings.ReplaceAll(body, e.iss.URL, "ISSUER")))
	}
}

func TestMetadataPreflight(t *testing.T) {
	e := newEnv(t, envOpts{})
	req, _ := http.NewRequest(http.MethodOptions, e.public+"/.well-known/oauth-protected-resource/mcp", nil)
	req.Header.Set("Origin", "https://anything.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestChallengePointsAtPathInsertedMetadata(t *testing.T) {
	e := newEnv(t, envOpts{})
	resp := e.post(t, "/mcp", "", nil, "{}")
	want := `resource_metadata="` + e.public + `/.well-known/oauth-protected-resource/mcp"`
	if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") || !strings.Contains(got, want) {
		t.Fatalf("challenge %q lacks %s", got, want)
	}
}
