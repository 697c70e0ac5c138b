package mcpidentity

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Unix(1_800_000_000, 0)

const testAudience = "https://upstream.internal/mcp"

var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

func clockAt(t time.Time) VerifierOption { return WithClock(func() time.Time { return t }) }

func testIdentity() Identity {
	return Identity{
		Subject: "user-123", ClientID: "client-abc", Issuer: "https://idp.example/",
		Scopes: []string{"mcp:tools", "files:read"}, Issued: t0, Expires: t0.Add(2 * time.Minute),
		ID: "nonce-0000000000000000",
	}
}

func signedHMAC(t *testing.T, id Identity) http.Header {
	t.Helper()
	s, err := NewHMACSigner(testKey, testAudience)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if err := s.Sign(h, id); err != nil {
		t.Fatal(err)
	}
	return h
}

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name), []byte(got))
}
