package httpproxy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// samplingServer is a go-sdk server whose "sample" tool asks the client to
// sample (sampling/createMessage, a server-to-client request) and returns
// the text it got, or the error as an error result. With g, the tool
// signals g.started and waits for g.release before sampling, then reports
// the sampling outcome on sampled and waits for finish before returning,
// so that a test controls which calls are in flight.
func samplingServer(g *gate, sampled chan<- string, finish <-chan struct{}) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "sampler", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "sample"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if g != nil {
			g.started <- struct{}{}
			<-g.release
		}
		text := "sampled: "
		res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 8,
			Messages: []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "hi"}}}})
		if err != nil {
			text = "error: " + err.Error()
		} else {
			text += res.Content.(*mcp.TextContent).Text
		}
		if sampled != nil {
			sampled <- text
			<-finish
		}
		return &mcp.CallToolResult{IsError: err != nil, Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
	})
	return srv
}

// streamSpy copies what the client reads of POST and GET event streams.
type streamSpy struct {
	base      http.RoundTripper
	post, get *testkit.SafeBuffer
}

type teeBody struct {
	io.Reader
	io.Closer
}

func (s streamSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp, err
	}
	buf := s.post
	if r.Method == http.MethodGet {
		buf = s.get
	}
	resp.Body = teeBody{io.TeeReader(resp.Body, buf), resp.Body}
	return resp, nil
}

// samplingClient connects a go-sdk client that answers sampling requests
// with "ok", with or without its standalone GET stream.
func samplingClient(t *testing.T, url string, getStream bool) (*mcp.ClientSession, streamSpy) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	spy := streamSpy{base: headerTransport{sub: "alice", base: tr}, post: &testkit.SafeBuffer{}, get: &testkit.SafeBuffer{}}
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "ok"}}, nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1, DisableStandaloneSSE: !getStream,
		HTTPClient: &http.Client{Transport: spy}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs, spy
}

// getActive reports whether the proxy's only bridge session has a GET
// stream open.
func getActive(p *Proxy) bool {
	p.bridge.mu.Lock()
	defer p.bridge.mu.Unlock()
	for _, s := range p.bridge.sessions {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.getActive
	}
	return false
}

// eachGetStream runs f, with and without the client's GET stream, for a
// sampling client connected through a bridge to the server srv returns
// (with the GET stream open before f runs).
func eachGetStream(t *testing.T, srv func() *mcp.Server, f func(t *testing.T, getStream bool, cs *mcp.ClientSession, spy streamSpy)) {
	for _, getStream := range []bool{true, false} {
		t.Run(map[bool]string{true: "with GET stream", false: "without GET stream"}[getStream], func(t *testing.T) {
			checkLeaks(t)
			up := sseUpstream(t, srv(), nil)
			p := newProxy(t, Options{URL: up.URL, Transport: TransportSSE})
			cs, spy := samplingClient(t, front(t, p).URL, getStream)
			if getStream {
				waitFor(t, "the client's GET stream", func() bool { return getActive(p) })
			}
			f(t, getStream, cs, spy)
		})
	}
}

// TestBridgeServerRequestOnPOST: a server-to-client request (sampling)
// caused by the only request in flight is delivered on that request's POST
// stream, with or without a GET stream; the client's answer, a POST of a
// JSON-RPC response, reaches the upstream and the tool completes.
func TestBridgeServerRequestOnPOST(t *testing.T) {
	srv := func() *mcp.Server { return samplingServer(nil, nil, nil) }
	eachGetStream(t, srv, func(t *testing.T, _ bool, cs *mcp.ClientSession, spy streamSpy) {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
		defer cancel()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{}})
		if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "sampled: ok" {
			t.Fatalf("sample = %v, %v", res, err)
		}
		if !strings.Contains(spy.post.String(), `"method":"sampling/createMessage"`) || strings.Contains(spy.get.String(), "sampling/createMessage") {
			t.Errorf("sampling request not on the POST stream:\nPOST: %s\nGET: %s", spy.post, spy.get)
		}
	})
}

// TestBridgeServerRequestsConcurrent: with two calls in flight, their
// sampling requests cannot be attributed: they go to the client's GET
// stream when one is open (and are answered), and without one the bridge
// refuses them upstream at once, so each tool gets a JSON-RPC error naming
// the reason instead of waiting for an answer that cannot come.
func TestBridgeServerRequestsConcurrent(t *testing.T) {
	var (
		g       *gate
		sampled chan string
		finish  chan struct{}
	)
	srv := func() *mcp.Server {
		g, sampled, finish = newGate(), make(chan string, 2), make(chan struct{})
		return samplingServer(g, sampled, finish)
	}
	eachGetStream(t, srv, func(t *testing.T, getStream bool, cs *mcp.ClientSession, _ streamSpy) {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
		defer cancel()
		results := make(chan *mcp.CallToolResult, 2)
		for range 2 {
			go func() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{}})
				if err != nil {
					t.Error(err)
				}
				results <- res
			}()
		}
		testkit.Recv(t, g.started, testkit.DefaultTimeout, "the first call")
		testkit.Recv(t, g.started, testkit.DefaultTimeout, "the second call")
		close(g.release)
		want := "sampled: ok"
		if !getStream {
			want = errUnroutable.msg
		}
		for range 2 {
			if got := testkit.Recv(t, sampled, testkit.DefaultTimeout, "a sampling outcome"); !strings.Contains(got, want) {
				t.Errorf("sampling outcome %q, want %q", got, want)
			}
		}
		close(finish)
		for range 2 {
			if res := testkit.Recv(t, results, testkit.DefaultTimeout, "a call's result"); res == nil || res.IsError != !getStream {
				t.Errorf("result %v", res)
			}
		}
	})
}

// TestBridgeKeys: 1 and 1.0 are one id, and one progress token, in the
// bridge (the go-sdk upstream answers id 2.0 as 2 and echoes token 5.0 as
// 5): the response and the progress reach the POST that asked, and a
// request whose id equals one in flight is refused.
func TestBridgeKeys(t *testing.T) {
	checkLeaks(t)
	g := newGate()
	up := sseUpstream(t, mcpServer(g), nil)
	gw := front(t, newProxy(t, Options{URL: up.URL, Transport: TransportSSE}))
	resp, _ := rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil)
	hdr := map[string]string{"Mcp-Session-Id": resp.Header.Get("Mcp-Session-Id")}
	rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, hdr)
	if _, body := rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","id":2.0,"method":"ping"}`, hdr); !strings.Contains(body, `"result":{}`) {
		t.Errorf("ping with id 2.0: %q", body)
	}
	got := make(chan string, 1)
	go func() {
		_, body := rawDo(t, http.MethodPost, gw.URL, "alice",
			`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"progress","arguments":{},"_meta":{"progressToken":5.0}}}`, hdr)
		got <- body
	}()
	testkit.Recv(t, g.started, testkit.DefaultTimeout, "the progress tool")
	resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","id":3e0,"method":"ping"}`, hdr)
	if _, _, msg := rpcErr(t, body); resp.StatusCode != http.StatusBadRequest || msg != errDuplicateID.msg {
		t.Errorf("id 3e0 while 3 is in flight: %d %s", resp.StatusCode, body)
	}
	close(g.release)
	if body := testkit.Recv(t, got, testkit.DefaultTimeout, "the progress call"); !strings.Contains(body, `"method":"notifications/progress"`) || !strings.Contains(body, `"text":"done"`) {
		t.Errorf("progress with token 5.0: %q", body)
	}
}
