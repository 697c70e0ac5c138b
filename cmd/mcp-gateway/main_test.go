package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	cmd := rootCmd()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil || !strings.HasPrefix(out.String(), "mcp-gateway ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
}

func TestLoopbackListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:0", "example.com:0", "[::]:0"} {
		if ln, err := loopbackListen("listen", addr); err == nil {
			ln.Close()
			t.Errorf("%s: bound, want refusal", addr)
		} else if !strings.Contains(err.Error(), "loopback") && !strings.Contains(err.Error(), "missing port") {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := loopbackListen("listen", addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		ln.Close()
	}
}

func TestServeReportsEveryProblemAtOnce(t *testing.T) {
	t.Chdir(t.TempDir()) // no stray .env
	t.Setenv("MCPGW_PROVIDER", "bogus")
	t.Setenv("MCPGW_ISSUER", "")
	t.Setenv("MCPGW_PUBLIC_URL", "")
	cmd := rootCmd()
	cmd.SetArgs([]string{"serve"})
	err := cmd.Execute()
	for _, key := range []string{"issuer:", "public_url:", "provider:"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

// syncBuffer is a goroutine-safe bytes.Buffer for the banner.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDevBannerCurlLineWorks runs dev mode and executes the banner's
// ready-made request: the printed token must call whoami successfully.
func TestDevBannerCurlLineWorks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runDev(ctx, out, "127.0.0.1:0", "127.0.0.1:0", "error") }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev returned %v", err)
		}
	})
	var banner string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if banner = out.String(); strings.Contains(banner, "curl -s http") {
			break
		}
	}
	token := regexp.MustCompile(`TOKEN=(\S+)`).FindStringSubmatch(banner)
	curl := regexp.MustCompile(`curl -s (http://\S+/mcp) (.*) -d '(.*)'`).FindStringSubmatch(banner)
	if token == nil || curl == nil {
		t.Fatalf("banner lacks a token or curl line:\n%s", banner)
	}
	req, _ := http.NewRequest(http.MethodPost, curl[1], strings.NewReader(curl[3]))
	for _, h := range regexp.MustCompile(`-H ["']([^:]+): ([^"']+)["']`).FindAllStringSubmatch(curl[2], -1) {
		req.Header.Set(h[1], strings.ReplaceAll(h[2], "$TOKEN", token[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `\"subject\":\"dev-user\"`) {
		t.Fatalf("banner request: %d %s", resp.StatusCode, body)
	}
	if _, err := loopbackListen("listen", "0.0.0.0:8080"); err == nil {
		t.Fatal("dev must refuse a non-loopback bind")
	}
}
