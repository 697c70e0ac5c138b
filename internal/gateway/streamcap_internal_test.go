package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/httpproxy"
)

const capPing = `{"jsonrpc":"2.0","id":1,"method":"ping"}`

// tokenSubject admits every token as the subject it names.
type tokenSubject struct{}

func (tokenSubject) Verify(_ context.Context, raw string) (*authn.Principal, error) {
	return &authn.Principal{Subject: raw, Issuer: "https://idp.test", Expiry: time.Now().Add(time.Hour)}, nil
}

func keyOf(sub string) string {
	return principalKey(&authn.Principal{Subject: sub, Issuer: "https://idp.test"})
}

// capEnv is a gateway serving h at /mcp with a stream cap and a body
// deadline, rate limits off, over HTTP/1.1 (or HTTP/2 over TLS).
type capEnv struct {
	s    *Server
	srv  *httptest.Server
	addr string
	rec  *observetest.Recorder
}

func newCapEnv(t *testing.T, maxStreams int, bodyTimeout time.Duration, h http.Handler, h2 bool) *capEnv {
	t.Helper()
	e := &capEnv{srv: httptest.NewUnstartedServer(nil), rec: observetest.New()}
	scheme := "http://"
	if h2 {
		e.srv.EnableHTTP2 = true
		scheme = "https://"
	}
	e.addr = e.srv.Listener.Addr().String()
	s, err := New(Options{PublicURL: scheme + e.addr, BodyReadTimeout: bodyTimeout, Observers: []observe.Observer{e.rec},
		RateLimitPerIP: RateLimit{Rate: -1}, RateLimitPerPrincipal: RateLimit{Rate: -1},
		Routes: []Route{{Path: "/mcp", Verifier: tokenSubject{}, Handler: h, MaxStreamsPerPrincipal: maxStreams}}})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	e.srv.Config.Handler = s.Handler()
	if h2 {
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	t.Cleanup(e.srv.Close)
	return e
}

func (e *capEnv) inUse(sub string) int { return e.s.caps["/mcp"].inUse(keyOf(sub)) }

// do sends method to /mcp as sub and returns the response, body read.
func (e *capEnv) do(t *testing.T, method, sub string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(capPing)
	}
	req, _ := http.NewRequest(method, e.srv.URL+"/mcp", body)
	req.Header.Set("Authorization", "Bearer "+sub)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: testkit.DefaultTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// slowBody opens a connection that sends a POST's headers for sub (no
// token if "") and the first bytes of its body, then nothing more. Reads
// on it fail after testkit.DefaultTimeout (a failure bound).
func (e *capEnv) slowBody(t *testing.T, sub string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetReadDeadline(time.Now().Add(testkit.DefaultTimeout))
	auth := ""
	if sub != "" {
		auth = "Authorization: Bearer " + sub + "\r\n"
	}
	if _, err := fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		e.addr, auth, len(capPing), capPing[:10]); err != nil {
		t.Fatal(err)
	}
	return conn
}

// rpcErrorOf decodes a JSON-RPC error body: id, code, message.
func rpcErrorOf(t *testing.T, body string) (string, int, string) {
	t.Helper()
	var r struct {
		ID    json.RawMessage `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("not a JSON-RPC error: %q: %v", body, err)
	}
	return string(r.ID), r.Error.Code, r.Error.Message
}

// okHandler answers "ok".
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

// TestSlowBodiesHoldTheirPrincipalsSlots: a principal's connections that
// send headers and then trickle the body each hold one of its
// max_streams_per_principal slots (the body phase counts); once all are
// held its further requests get 429 with Retry-After and a JSON-RPC
// error, while another principal's calls succeed; closing the slow
// connections gives the slots back.
func TestSlowBodiesHoldTheirPrincipalsSlots(t *testing.T) {
	const max = 4
	e := newCapEnv(t, max, 10*time.Minute, okHandler, false)
	conns := make([]net.Conn, max)
	for i := range conns {
		conns[i] = e.slowBody(t, "alice")
	}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return e.inUse("alice") == max }, "alice's slow bodies to take her slots")

	resp, body := e.do(t, http.MethodPost, "alice")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("alice over the cap: %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if id, code, msg := rpcErrorOf(t, body); id != "null" || code != mcpwire.CodeServerError || msg != msgConcurrency {
		t.Fatalf("429 body %s", body)
	}
	for range 2 * max {
		if resp, body := e.do(t, http.MethodPost, "bob"); resp.StatusCode != http.StatusOK {
			t.Fatalf("bob beside alice's slow bodies: %d %s", resp.StatusCode, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	if ev := e.rec.Wait(ctx, 1+2*max); ev[0].Reason != observe.ReasonConcurrency || ev[0].Subject != "alice" || ev[0].Status != http.StatusTooManyRequests {
		t.Fatalf("first event %+v, want alice's concurrency refusal", ev[0])
	}

	for _, c := range conns {
		_ = c.Close()
	}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return e.inUse("alice") == 0 }, "alice's slots to be released")
	if resp, body := e.do(t, http.MethodPost, "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("alice after her slow connections closed: %d %s", resp.StatusCode, body)
	}
}

// TestSlowBodiesTimeOut: with a small body_read_timeout, bodies that do
// not arrive in time get 408 with a JSON-RPC error, their connections are
// closed, the refusal is recorded, and the principal's slots come back.
// The deadline is set through the gateway's writer wrappers and echo's
// response writer (both Unwrap): this runs the whole gateway handler.
func TestSlowBodiesTimeOut(t *testing.T) {
	const max = 3
	e := newCapEnv(t, max, 200*time.Millisecond, okHandler, false)
	conns := make([]net.Conn, max)
	for i := range conns {
		conns[i] = e.slowBody(t, "alice")
	}
	for i, c := range conns {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("slow body %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
			t.Fatalf("slow body %d: %d (close %v) %s", i, resp.StatusCode, resp.Close, b)
		}
		if _, code, msg := rpcErrorOf(t, string(b)); code != mcpwire.CodeServerError || msg != "request body not received in time" {
			t.Fatalf("408 body %s", b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	for _, ev := range e.rec.Wait(ctx, max) {
		if ev.Reason != observe.ReasonBodyTimeout || ev.Decision != observe.DecisionDeny || ev.Subject != "alice" {
			t.Fatalf("event %+v, want alice's body_timeout refusal", ev)
		}
	}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return e.inUse("alice") == 0 }, "alice's slots to be released")
	if resp, body := e.do(t, http.MethodPost, "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("alice's honest call after the timeouts: %d %s", resp.StatusCode, body)
	}
}

// TestRefusedSlowBodiesAreBounded: a request refused before its body is
// read (here: no token, 401) leaves the body unread, and net/http reads
// the rest before answering; the deadline set on arrival bounds that, so
// the answer comes and the connection is closed instead of being held
// for as long as the client trickles.
func TestRefusedSlowBodiesAreBounded(t *testing.T) {
	e := newCapEnv(t, 4, 200*time.Millisecond, okHandler, false)
	conn := e.slowBody(t, "")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a refused slow body: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection after the refusal: %v, want it closed (EOF)", err)
	}
}

// TestBodyDeadlineHTTP2: the body deadline holds over HTTP/2 too (a
// stream's read deadline): a body that stops half-way gets 408.
func TestBodyDeadlineHTTP2(t *testing.T) {
	e := newCapEnv(t, 4, 200*time.Millisecond, okHandler, true)
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	go func() { _, _ = io.WriteString(pw, capPing[:10]) }()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/mcp", pr)
	req.Header.Set("Authorization", "Bearer alice")
	req.Header.Set("Content-Type", "application/json")
	client := e.srv.Client()
	client.Timeout = testkit.DefaultTimeout
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("HTTP/%d %d: %s", resp.ProtoMajor, resp.StatusCode, b)
	}
}

// TestBodyDeadlineDoesNotCutResponses: the deadline is cleared once the
// body is read, so a response that lasts longer than body_read_timeout
// (a stream) is neither cut nor has its request context cancelled. The
// stream outlives a later slow body's 408, which proves its own deadline
// would have passed.
func TestBodyDeadlineDoesNotCutResponses(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		_ = http.NewResponseController(w).Flush()
		select {
		case <-release:
			_, _ = io.WriteString(w, "data: last\n\n")
		case <-r.Context().Done():
		}
	})
	e := newCapEnv(t, 4, 200*time.Millisecond, h, false)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/mcp", strings.NewReader(capPing))
	req.Header.Set("Authorization", "Bearer alice")
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: testkit.DefaultTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != "data: first\n" {
		t.Fatalf("first event: %q %v", line, err)
	}
	slow := e.slowBody(t, "bob")
	if r2, err := http.ReadResponse(bufio.NewReader(slow), nil); err != nil || r2.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("later slow body: %v %v", r2, err)
	}
	close(release)
	rest, err := io.ReadAll(rd)
	if err != nil || string(rest) != "\ndata: last\n\n" {
		t.Fatalf("rest of the stream: %q %v", rest, err)
	}
}

// TestStreamCapCountsStreams (moved from internal/upstream/httpproxy,
// where the cap used to be): open GET streams through the HTTP proxy
// count against the principal's cap, another principal is unaffected,
// and slots come back when the streams end.
func TestStreamCapCountsStreams(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(up.Close)
	p, err := httpproxy.New(httpproxy.Options{URL: up.URL, RouteID: "/mcp", SessionKey: []byte(strings.Repeat("k", httpproxy.MinSessionKeyBytes))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	e := newCapEnv(t, 2, 0, p, false)

	var held []*http.Response
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/mcp", nil)
		req.Header.Set("Authorization", "Bearer alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %v %v", resp, err)
		}
		held = append(held, resp)
	}
	if resp, body := e.do(t, http.MethodPost, "alice"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the cap: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer bob")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("bob limited by alice's streams: %v %v", resp, err)
	} else {
		t.Cleanup(func() { resp.Body.Close() })
	}
	close(release)
	for _, r := range held {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return e.inUse("alice") == 0 }, "alice's slots to be released")
}
