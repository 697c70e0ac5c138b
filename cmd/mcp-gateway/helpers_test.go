package main

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// listenLocal returns a loopback listener and its http:// base URL (the
// gateway's public_url, known before it is configured).
func listenLocal(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

// loadEnv loads the configuration as serve does from the environment
// only: listen and public_url on ln, issuer, then env.
func loadEnv(t *testing.T, ln net.Listener, issuer string, env ...string) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{DotEnv: os.DevNull, Environ: append([]string{
		"MCPGW_LISTEN=" + ln.Addr().String(), "MCPGW_PUBLIC_URL=http://" + ln.Addr().String(), "MCPGW_ISSUER=" + issuer}, env...)})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// serveWiredOn wires cfg as serve does, loads the issuer's keys and serves
// the gateway on ln (gateway.Server.Serve) until the test ends, then
// checks that Serve returned cleanly and closes the app.
func serveWiredOn(t testing.TB, cfg *config.Config, ln net.Listener) *app {
	t.Helper()
	a, err := wire(cfg, slog.New(slog.DiscardHandler), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return serveAppOn(t, a, ln)
}

// serveAppOn loads a's keys and serves it on ln until the test ends, then
// checks that Serve returned cleanly and closes a.
func serveAppOn(t testing.TB, a *app, ln net.Listener) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		a.close()
	})
	if err := a.keys.Start(ctx); err != nil {
		done <- nil
		t.Fatal(err)
	}
	go func() { done <- a.server.Serve(ctx, ln, gateway.ServeOptions{ShutdownTimeout: testkit.DefaultTimeout}) }()
	return a
}

// serveWired wires cfg as serve does, loads the issuer's keys and serves
// the gateway on a loopback test server.
func serveWired(t *testing.T, cfg *config.Config) *httptest.Server {
	t.Helper()
	a, err := wire(cfg, slog.New(slog.DiscardHandler), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := a.keys.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.server.Handler())
	t.Cleanup(srv.Close)
	return srv
}
