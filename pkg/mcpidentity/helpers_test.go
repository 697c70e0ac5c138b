package mcpidentity

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

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

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s mismatch:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// checkNoLeak fails t if goroutines started during the test are still
// running after a settle period.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, n, strings.TrimSpace(string(buf)))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
