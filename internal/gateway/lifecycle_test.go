package gateway_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	get := func(p string) int {
		resp, err := http.Get(e.public + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("/healthz") != 200 {
		t.Fatal("healthz")
	}
	if got := get("/readyz"); got != 503 {
		t.Fatalf("readyz before keys loaded = %d, want 503", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := e.keys.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get("/readyz"); got != 200 {
		t.Fatalf("readyz after keys loaded = %d", got)
	}
}

func TestIssuerDownWithoutKeysIs503(t *testing.T) {
	e := newEnv(t, envOpts{noStart: true})
	e.iss.SetDown(true)
	resp := e.post(t, "/mcp", "Bearer "+e.token(nil), nil, ping)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if e.reached.Load() != 0 {
		t.Fatal("request reached the handler without verification")
	}
}

func TestBodyCap(t *testing.T) {
	e := newEnv(t, envOpts{builtin: true})
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`
	resp := e.post(t, "/mcp", "Bearer "+e.token(nil), nil, big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestUnknownPathIsJSON404(t *testing.T) {
	e := newEnv(t, envOpts{})
	resp, err := http.Get(e.public + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(body, `"jsonrpc":"2.0"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestGracefulShutdownFinishesInFlight: a request in flight when shutdown
// begins still completes, and Serve returns cleanly. The handler is held
// until the test has seen the listener close (the first thing shutdown
// does), so the request is in flight during shutdown by construction.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = w.Write([]byte("done"))
	})
	g, err := gateway.New(gateway.Options{PublicURL: "http://127.0.0.1:1", Routes: []gateway.Route{{
		Path: "/mcp", Verifier: acceptAll{}, Handler: slow,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		// Generous bounds: they are not what this test measures.
		served <- g.Serve(ctx, ln, gateway.ServeOptions{ReadHeaderTimeout: testkit.DefaultTimeout, ShutdownTimeout: testkit.DefaultTimeout})
	}()
	got := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/mcp", strings.NewReader(ping))
		req.Header.Set("Authorization", "Bearer ok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(b)
	}()
	testkit.WaitDone(t, started, testkit.DefaultTimeout, "the request to reach the handler")
	cancel()
	testkit.WaitClosed(t, addr, "the gateway, shut down,")
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(release)
	if body := testkit.Recv(t, got, testkit.DefaultTimeout, "the in-flight response"); body != "done" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := testkit.Recv(t, served, testkit.DefaultTimeout, "Serve to return"); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}
