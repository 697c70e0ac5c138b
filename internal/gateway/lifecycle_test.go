package gateway_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
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
	resp := e.post(t, "/mcp", "Bearer "+e.token(nil), nil, "{}")
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

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
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
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- g.Serve(ctx, ln, gateway.ServeOptions{ReadHeaderTimeout: time.Second, ShutdownTimeout: 5 * time.Second})
	}()
	got := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/mcp", nil)
		req.Header.Set("Authorization", "Bearer ok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		got <- readAll(t, resp.Body)
	}()
	<-started
	cancel()
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
}
