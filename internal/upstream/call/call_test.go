package call_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

const ping = `{"jsonrpc":"2.0","id":1,"method":"ping"}`

var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

// TestReadWithinDeadline: a body that stops arriving gets 408 with a
// JSON-RPC error and the connection closed; a whole body passes; without a
// timeout no deadline is needed, and with one a writer that cannot set
// deadlines fails closed (500) instead of reading without a bound.
func TestReadWithinDeadline(t *testing.T) {
	srv := httptest.NewServer(call.ReadWithin(0, 100*time.Millisecond, ok))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(testkit.DefaultTimeout)) // a failure bound
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(ping), ping[:5])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close || !strings.Contains(string(b), `"code":-32000`) {
		t.Fatalf("slow body: %d close=%v %s", resp.StatusCode, resp.Close, b)
	}

	if resp, err := (&http.Client{Timeout: testkit.DefaultTimeout}).Post(srv.URL, "application/json", strings.NewReader(ping)); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("whole body: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	w := httptest.NewRecorder()
	call.Read(0, ok).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(ping)))
	if w.Code != http.StatusOK {
		t.Fatalf("Read without deadline: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	call.ReadWithin(0, time.Second, ok).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(ping)))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("deadline on a writer without one: %d %s, want 500", w.Code, w.Body)
	}
}
