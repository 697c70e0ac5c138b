//go:build unix

package testenv

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestStartMoto proves StartMoto returns a loopback endpoint that answers,
// and that the server is gone (port closed) once the test that started it
// has finished.
func TestStartMoto(t *testing.T) {
	var endpoint string
	t.Run("run", func(t *testing.T) {
		endpoint = StartMoto(t)
		if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
			t.Fatalf("endpoint = %q, want http://127.0.0.1:<port>", endpoint)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(endpoint + "/moto-api/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /moto-api/ = %s", resp.Status)
		}
	})
	if endpoint == "" {
		return // skipped: moto_server not installed
	}
	addr := strings.TrimPrefix(endpoint, "http://")
	// The cleanup waited for the process to exit, so the port is normally
	// closed already; the wait only absorbs the kernel's teardown.
	testkit.WaitClosed(t, addr, "moto, after its test ended,")
}
