package main

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/audit"
)

// TestAuditLogWired: audit_log names a file the wired gateway appends one
// line per refusal to; a path that cannot be opened fails startup naming
// it; "off" adds no audit observer.
func TestAuditLogWired(t *testing.T) {
	iss := authntest.NewIssuer(t)
	path := filepath.Join(t.TempDir(), "audit.log")
	cfg := scopesConfig(t, iss, nil, nil)
	cfg.AuditLog = path
	srv := serveWired(t, cfg)
	resp, err := http.Post(srv.URL+"/mcp/tickets", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"route":"/mcp/tickets","http_method":"POST","remote_ip":"127.0.0.1"`; !strings.Contains(string(b), want) ||
		!strings.Contains(string(b), `"decision":"deny","reason":"missing"`) || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("audit file:\n%s", b)
	}

	bad := filepath.Join(t.TempDir(), "missing", "audit.log")
	cfg.AuditLog = bad
	if _, err := wire(cfg, slog.New(slog.DiscardHandler), os.Getenv); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("wire with audit_log %s: %v, want an error naming it", bad, err)
	}

	cfg.AuditLog = "off"
	obs, _, err := observers(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if _, ok := o.(*audit.Logger); ok {
			t.Fatal("audit_log off still audits")
		}
	}
}
