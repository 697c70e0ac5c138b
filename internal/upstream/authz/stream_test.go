package authz_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
)

// readEvent reads lines up to a blank line.
func readEvent(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return b.String(), fmt.Errorf("reading event: %w (so far %q)", err, b.String())
		}
		if line == "\n" {
			return b.String(), nil
		}
		b.WriteString(line)
	}
}

func postStream(t *testing.T, ctx context.Context, url, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestSSEProgressFlushedBeforeResult: a notification the upstream sends
// while a list request runs reaches the client before the result exists;
// the result then arrives filtered.
func TestSSEProgressFlushedBeforeResult(t *testing.T) {
	noLeak(t)
	release := make(chan struct{})
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":0.5}}\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":%s}\n\n", lists["tools/list"])
	})
	srv := serve(t, up, authz.Options{})
	resp := postStream(t, context.Background(), srv.URL, "mcp", rpc(7, "tools/list", ""))
	defer resp.Body.Close()
	if resp.Header.Get("Content-Length") != "" || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("headers %v", resp.Header)
	}
	r := bufio.NewReader(resp.Body)
	got := make(chan string, 1)
	go func() {
		ev, err := readEvent(r)
		if err != nil {
			ev = err.Error()
		}
		got <- ev
	}()
	// The upstream holds the result until release: the event can only
	// arrive if it was flushed on its own.
	if ev := testkit.Recv(t, got, testkit.DefaultTimeout, "the progress notification before the result"); !strings.Contains(ev, "notifications/progress") {
		t.Fatalf("first event %q", ev)
	}
	close(release)
	ev, err := readEvent(r)
	if err != nil || !strings.Contains(ev, `"echo"`) || strings.Contains(ev, "admin.reset") || strings.Contains(ev, "repo.delete") {
		t.Fatalf("result event %q, %v", ev, err)
	}
}

// TestNonPOSTPassThrough: DELETE and non-stream GET answers reach the
// client untouched; on a GET event stream every event passes unchanged
// except a replayed list response, which is filtered by its shape.
func TestNonPOSTPassThrough(t *testing.T) {
	noLeak(t)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			w.Header().Set("Content-Length", "2")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "ok")
		case r.Header.Get("Last-Event-ID") == "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			io.WriteString(w, `{"result":{"tools":[{"name":"admin.reset"}]}}`)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, ": keepalive\n\nid: 5\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n")
			fmt.Fprintf(w, "id: 6\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"old\",\"result\":%s}\n\n", lists["tools/list"])
		}
	})
	srv := serve(t, up, authz.Options{})
	resp, body := do(t, srv, http.MethodDelete, "mcp", "")
	if resp.StatusCode != 200 || body != "ok" {
		t.Errorf("DELETE: %d %q", resp.StatusCode, body)
	}
	resp, body = do(t, srv, http.MethodGet, "mcp", "")
	if resp.StatusCode != 405 || body != `{"result":{"tools":[{"name":"admin.reset"}]}}` {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}
	resp, body = do(t, srv, http.MethodGet, "mcp", "", "Last-Event-ID: 4")
	want := ": keepalive\n\nid: 5\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n" +
		"event: message\nid: 6\ndata: {\"id\":\"old\",\"jsonrpc\":\"2.0\",\"result\":{\"tools\":[{\"name\":\"echo\"}]}}\n\n"
	if resp.StatusCode != 200 || body != want {
		t.Errorf("GET stream:\n got %q\nwant %q", body, want)
	}
}

// TestUninspectableResponses: a list response that is compressed, larger
// than the cap, not JSON, or that answers no request of the POST is
// refused with 502 (a JSON-RPC error answering the request), never
// forwarded unfiltered; an oversized event ends the stream after an error
// event for the request, and the upstream's write fails.
func TestUninspectableResponses(t *testing.T) {
	noLeak(t)
	writeErr := make(chan error, 1)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Mode") {
		case "gzip":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			io.WriteString(w, "\x1f\x8b...")
		case "unsolicited":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"admin.reset"}]}}`)
		case "string-id":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":"1","result":{"tools":[{"name":"admin.reset"}]}}`)
		case "invalid":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"admin.reset"}`)
		case "duplicate":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"tools":[]},"result":{"tools":[{"name":"admin.reset"}]}}`)
		case "big":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"admin.reset","description":%q}]}}`, strings.Repeat("x", 600))
		case "bigsse":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n")
			_, err := fmt.Fprintf(w, `data: {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"admin.reset","description":%q}]}}`, strings.Repeat("x", 600))
			writeErr <- err
		}
	})
	srv := serve(t, up, authz.Options{MaxResponseBytes: 512})
	for _, mode := range []string{"gzip", "big", "unsolicited", "string-id", "invalid", "duplicate"} {
		resp, body := do(t, srv, http.MethodPost, "mcp", rpc(1, "tools/list", ""), "X-Mode: "+mode)
		want := `{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"upstream response could not be authorized"}}` + "\n"
		if resp.StatusCode != http.StatusBadGateway || body != want {
			t.Errorf("%s: %d %q", mode, resp.StatusCode, body)
		}
	}
	resp, body := do(t, srv, http.MethodPost, "mcp", rpc(1, "tools/list", ""), "X-Mode: bigsse")
	want := "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n" +
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32603,\"message\":\"upstream response could not be authorized\"}}\n\n"
	if resp.StatusCode != 200 || body != want {
		t.Errorf("bigsse: %d %q", resp.StatusCode, body)
	}
	if err := <-writeErr; err == nil {
		t.Error("the upstream's oversized write succeeded")
	}
}

// TestClientDisconnect: a client that goes away mid-stream cancels the
// upstream handler's context; nothing is left running.
func TestClientDisconnect(t *testing.T) {
	noLeak(t)
	started, ended := make(chan struct{}), make(chan struct{}, 1)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { ended <- struct{}{} }()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n")
		http.NewResponseController(w).Flush()
		close(started)
		<-r.Context().Done()
	})
	srv := serve(t, up, authz.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	resp := postStream(t, ctx, srv.URL, "mcp", rpc(1, "tools/list", ""))
	<-started
	cancel()
	resp.Body.Close()
	testkit.Recv(t, ended, testkit.DefaultTimeout, "the upstream handler to return after the client left")
	http.DefaultClient.CloseIdleConnections()
}
