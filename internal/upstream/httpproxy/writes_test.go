package httpproxy

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
)

// countedServer serves h on a loopback listener whose connections count
// their writes; closed at cleanup.
func countedServer(t testing.TB, h http.Handler) (*httptest.Server, *testkit.CountingListener) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	cc := &testkit.CountingListener{Listener: srv.Listener}
	srv.Listener = cc
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc
}

// countedFront is front (call.Read, a principal) on a countedServer.
func countedFront(t testing.TB, h http.Handler) (*httptest.Server, *testkit.CountingListener) {
	t.Helper()
	return countedServer(t, frontHandler(h))
}

const echoCall = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`

// post sends body and returns the response with its body read.
func post(t *testing.T, c *http.Client, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(mcpwire.HeaderProtocolVersion, "2025-06-18")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestOneWriteForOneEventAnswer: a tools/call answered with one event
// reaches the client in exactly one write on its connection (status line,
// headers, the event and the end of the body together), whether the
// answer comes within the response hold or after it (then the headers went
// out when the hold ended, and the answer leaves with the end of the
// stream in one more write).
func TestOneWriteForOneEventAnswer(t *testing.T) {
	t.Run("within the hold", func(t *testing.T) {
		checkLeaks(t)
		up := streamableUpstream(t, mcpServer(nil), true, nil)
		gw, cc := countedFront(t, newProxy(t, Options{URL: up.URL, responseHold: time.Hour}))
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		c := &http.Client{Transport: tr, Timeout: testkit.DefaultTimeout}
		for i := range 3 { // a fresh connection, then reused ones
			before := cc.Writes()
			resp, body := post(t, c, gw.URL, echoCall)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"text":"hi"`) {
				t.Fatalf("call %d: %d %q", i, resp.StatusCode, body)
			}
			if n := cc.Writes() - before; n != 1 {
				t.Fatalf("call %d: the answer took %d writes, want 1", i, n)
			}
		}
	})
	t.Run("after the hold", func(t *testing.T) {
		checkLeaks(t)
		release, end := make(chan struct{}), make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			rc := http.NewResponseController(w)
			_ = rc.Flush()
			for _, wait := range []chan struct{}{release, end} {
				select {
				case <-wait:
				case <-r.Context().Done():
					return
				}
				if wait == release {
					_, _ = io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n")
					_ = rc.Flush()
				}
			}
		}))
		t.Cleanup(up.Close)
		// The upstream ends its stream only once the proxy, having read the
		// answer, waits for more; endGrace of an hour keeps the answer for
		// the end, however slowly the test's machine runs.
		spy := &readSpy{base: http.DefaultTransport, marker: `"id":7`, waiting: make(chan struct{})}
		gw, cc := countedFront(t, newProxy(t, Options{URL: up.URL, responseHold: -1, endGrace: time.Hour,
			HTTPClient: &http.Client{Transport: spy}}))
		ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gw.URL, strings.NewReader(echoCall))
		req.Header.Set("Content-Type", "application/json")
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		headers := cc.Writes()
		close(release)
		testkit.WaitDone(t, spy.waiting, testkit.DefaultTimeout, "the proxy to wait for more after the answer")
		close(end)
		b, err := io.ReadAll(resp.Body)
		if err != nil || !strings.Contains(string(b), `"id":7`) {
			t.Fatalf("body %q, %v", b, err)
		}
		if n := cc.Writes() - headers; n != 1 {
			t.Fatalf("the answer and the end of the stream took %d writes, want 1", n)
		}
	})
}

// readSpy is an upstream transport whose response bodies close waiting
// when a Read starts after one returned marker.
type readSpy struct {
	base    http.RoundTripper
	marker  string
	waiting chan struct{}
	once    sync.Once
}

func (s *readSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err == nil {
		resp.Body = &spiedBody{ReadCloser: resp.Body, s: s}
	}
	return resp, err
}

type spiedBody struct {
	io.ReadCloser
	s    *readSpy
	seen bool
}

func (b *spiedBody) Read(p []byte) (int, error) {
	if b.seen {
		b.s.once.Do(func() { close(b.s.waiting) })
	}
	n, err := b.ReadCloser.Read(p)
	b.seen = b.seen || strings.Contains(string(p[:n]), b.s.marker)
	return n, err
}

// TestEventsNotHeld: an event the upstream follows with nothing (it pauses
// before its next one) reaches the client before the next is released,
// with and without the response hold, for POST and GET streams.
func TestEventsNotHeld(t *testing.T) {
	for _, tt := range []struct {
		name   string
		method string
		hold   time.Duration
	}{
		{"POST, no hold", http.MethodPost, -1},
		{"POST, hold", http.MethodPost, time.Millisecond},
		{"GET", http.MethodGet, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			release := make(chan struct{})
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				rc := http.NewResponseController(w)
				_, _ = io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n")
				_ = rc.Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				_, _ = io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n")
			}))
			t.Cleanup(up.Close)
			gw := front(t, newProxy(t, Options{URL: up.URL, responseHold: tt.hold}))
			ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
			defer cancel()
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(echoCall)
			}
			req, _ := http.NewRequestWithContext(ctx, tt.method, gw.URL, body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var once sync.Once
			defer once.Do(func() { close(release) })
			rd := mcpwire.NewReader(resp.Body, 0)
			ev, err := rd.Next() // fails at the timeout if the event is held
			if err != nil || !strings.Contains(string(ev.Data), "notifications/progress") {
				t.Fatalf("first event %q, %v", ev.Data, err)
			}
			once.Do(func() { close(release) })
			if ev, err = rd.Next(); err != nil || !strings.Contains(string(ev.Data), `"id":7`) {
				t.Fatalf("second event %q, %v", ev.Data, err)
			}
		})
	}
}

// TestParallelCallsReuseConnections: parallel calls through the proxy
// reuse its upstream connections instead of dialing one per call (Go's
// default of two idle connections per host would churn them).
func TestParallelCallsReuseConnections(t *testing.T) {
	checkLeaks(t)
	const parallel, calls = 16, 10
	srv := mcpServer(nil)
	upSrv := streamableUpstream(t, srv, true, nil)
	up, cc := countedServer(t, upSrv.Config.Handler)
	gw := front(t, newProxy(t, Options{URL: up.URL}))
	tr := &http.Transport{MaxIdleConnsPerHost: parallel}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: testkit.DefaultTimeout}
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for range calls {
				req, _ := http.NewRequest(http.MethodPost, gw.URL, strings.NewReader(echoCall))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(bufio.NewReader(resp.Body))
				resp.Body.Close()
				if !strings.Contains(string(b), `"text":"hi"`) {
					t.Errorf("answer %q", b)
				}
			}
		})
	}
	wg.Wait()
	// A new connection is dialed only while every open one is busy, so at
	// most one per call in flight, and a few more for dials that lost the
	// race to a connection coming back.
	if n := cc.Conns(); n > 2*parallel {
		t.Fatalf("%d upstream connections for %d calls, %d at a time", n, parallel*calls, parallel)
	}
}

// onceReader is a request body that fails the test when it is read again
// after its end (a second read of the body).
type onceReader struct {
	t    *testing.T
	r    io.Reader
	done bool
}

func (o *onceReader) Read(p []byte) (int, error) {
	if o.done {
		o.t.Error("the request body was read again after its end")
		return 0, io.EOF
	}
	n, err := o.r.Read(p)
	o.done = err == io.EOF
	return n, err
}

// bodyGuard fails the test if a handler behind call.Read reads r.Body:
// the parsed body in call.Call is the only copy that passes on.
func bodyGuard(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = io.NopCloser(readerFunc(func([]byte) (int, error) {
			t.Error("r.Body read behind call.Read")
			return 0, io.EOF
		}))
		next.ServeHTTP(w, r)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestBodyReadOnce: a POST's body is read once, by call.Read, and neither
// per-tool authorization nor the proxy reads it again: the upstream gets
// the bytes call.Read parsed.
func TestBodyReadOnce(t *testing.T) {
	checkLeaks(t)
	up := streamableUpstream(t, mcpServer(nil), true, nil)
	p := newProxy(t, Options{URL: up.URL})
	mw, err := authz.New(authz.Policy{Tools: map[string][]string{"echo": {"mcp:tools"}}}, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := frontHandler(bodyGuard(t, mw.Wrap(p)))
	body := &onceReader{t: t, r: strings.NewReader(echoCall)}
	r := httptest.NewRequest(http.MethodPost, "/mcp", body)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	r.Header.Set(mcpwire.HeaderProtocolVersion, "2025-06-18")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"text":"hi"`) {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	if !body.done {
		t.Error("the body was not read to its end")
	}
}

// TestDefaultClientSpeaksHTTP2: the default upstream client negotiates
// HTTP/2 with an https upstream that offers it.
func TestDefaultClientSpeaksHTTP2(t *testing.T) {
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	t.Cleanup(up.Close)
	c := defaultClient()
	tr := c.Transport.(*http.Transport)
	t.Cleanup(tr.CloseIdleConnections)
	tr.TLSClientConfig = up.Client().Transport.(*http.Transport).TLSClientConfig.Clone() // trusts the test certificate
	resp, err := c.Get(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("upstream spoke %s, want HTTP/2", resp.Proto)
	}
}
