//go:build bench

package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// memClient opens sessions and their standalone GET streams on one
// MCP endpoint. The POSTs go through a small pool of connections; each
// GET has a raw connection of its own, read up to the response header and
// then left idle (no goroutine on this side).
type memClient struct {
	url    string
	host   string
	path   string
	tokens []string
	tr     *http.Transport
	hc     *http.Client
	next   atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func newMemClient(t *testing.T, iss *authntest.Issuer, url string) *memClient {
	rest, ok := strings.CutPrefix(url, "http://")
	if !ok {
		t.Fatalf("%s: want http://", url)
	}
	host, path, _ := strings.Cut(rest, "/")
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	c := &memClient{url: url, host: host, path: "/" + path, tr: tr, hc: &http.Client{Transport: tr, Timeout: time.Minute}}
	for i := range memPrincipals {
		claims := iss.Claims(url)
		claims["sub"] = fmt.Sprintf("bench-%d", i)
		claims["scope"] = "mcp:tools"
		claims["exp"] = time.Now().Add(2 * time.Hour).Unix()
		c.tokens = append(c.tokens, iss.Mint(claims))
	}
	return c
}

// open opens n more sessions with their GET streams, 32 at a time.
func (c *memClient) open(t *testing.T, n int) {
	if n <= 0 {
		return
	}
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(n))
	errc := make(chan error, 32)
	for range min(32, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				conn, err := c.openOne(c.tokens[int(c.next.Add(1))%len(c.tokens)])
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
				c.mu.Lock()
				c.conns = append(c.conns, conn)
				c.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.tr.CloseIdleConnections()
	select {
	case err := <-errc:
		t.Fatalf("opening streams on %s: %v", c.url, err)
	default:
	}
}

// openOne initializes a session and opens its standalone GET stream.
func (c *memClient) openOne(token string) (net.Conn, error) {
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + memProtocol +
		`","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`
	sid, err := c.post(token, "", init, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if sid == "" {
		return nil, fmt.Errorf("initialize: no Mcp-Session-Id")
	}
	if _, err := c.post(token, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, http.StatusAccepted); err != nil {
		return nil, fmt.Errorf("notifications/initialized: %w", err)
	}
	conn, err := net.Dial("tcp", c.host)
	if err != nil {
		return nil, err
	}
	req := "GET " + c.path + " HTTP/1.1\r\nHost: " + c.host + "\r\nAuthorization: Bearer " + token +
		"\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + sid + "\r\nMCP-Protocol-Version: " + memProtocol + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 1024), nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("GET stream: %w", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		conn.Close()
		return nil, fmt.Errorf("GET stream: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return conn, nil
}

// post sends one JSON-RPC message and reads the whole answer; it returns
// the Mcp-Session-Id answered.
func (c *memClient) post(token, sid, body string, want int) (string, error) {
	req, err := http.NewRequest(http.MethodPost, c.url, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("MCP-Protocol-Version", memProtocol)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return "", fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return resp.Header.Get("Mcp-Session-Id"), nil
}

// close closes every stream.
func (c *memClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
	c.tr.CloseIdleConnections()
}
