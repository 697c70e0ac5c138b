//go:build unix

package testenv

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("moto still listening on %s after its test ended", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
