package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// sseWriter is a filterWriter answering with an event stream into a
// recorder; order lists the POST's request ids, in body order.
type sseWriter struct {
	*filterWriter
	rec       *httptest.ResponseRecorder
	flushes   int
	cancelled bool
}

func newSSEWriter(a *answerFilter, max int, order ...string) *sseWriter {
	s := &sseWriter{rec: httptest.NewRecorder()}
	s.filterWriter = &filterWriter{w: s.rec, a: a, max: max, post: a.requests != nil,
		cancel: func() { s.cancelled = true }, log: func(string, error) {}, flush: func() { s.flushes++ }}
	for _, id := range order {
		k, _ := mcpwire.KeyOf(json.RawMessage(id))
		s.order = append(s.order, k)
	}
	s.Header().Set("Content-Type", "text/event-stream")
	s.WriteHeader(http.StatusOK)
	return s
}

// TestSSEGolden feeds a stream mixing LF, CRLF and CR line ends, comments,
// a progress notification, list responses (one split over two data
// lines, one a batch), a priming event and an event whose CR hides a data
// line from the SSE grammar but not from the go-sdk client, in chunks of
// every size: the output is the same each time, LF-only events that need
// no change are byte for byte, every other event is re-encoded with LF
// only (so no client reads more than was checked), and the filter does not
// flush on its own account (see TestSSEFlushFollowsUpstream).
func TestSSEGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/stream.sse")
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for size := 1; size <= len(in); size++ {
		s := newSSEWriter(testFilter(t, "3 tools/list", "99 tools/list", `"p" prompts/list`), 1<<10)
		for rest := in; len(rest) > 0; {
			n := min(size, len(rest))
			if _, err := s.Write(rest[:n]); err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			rest = rest[n:]
		}
		s.finish()
		if s.flushes != 0 {
			t.Fatalf("size %d: %d flushes, want none (the upstream never flushed)", size, s.flushes)
		}
		if first == nil {
			first = s.rec.Body.Bytes()
			testkit.Golden(t, "testdata/stream.golden.sse", first)
		} else if !bytes.Equal(s.rec.Body.Bytes(), first) {
			t.Fatalf("size %d: output differs:\n%q\n%q", size, s.rec.Body.Bytes(), first)
		}
	}
	if !bytes.HasPrefix(first, []byte(": ok\n\nevent: message\nid: s1_0\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"")) ||
		bytes.Contains(first, []byte("admin.")) || bytes.Contains(first, []byte("secret")) || bytes.IndexByte(first, '\r') >= 0 {
		t.Errorf("unexpected output %q", first)
	}
}

// TestSSEFlushFollowsUpstream: an event is forwarded once complete and
// flushed when the upstream flushes, so that events (and the end of the
// stream) the upstream writes together reach the client in one write.
func TestSSEFlushFollowsUpstream(t *testing.T) {
	s := newSSEWriter(testFilter(t, "1 tools/call"), 1<<10)
	const ev = "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n"
	if _, err := s.Write([]byte(ev + "data: {")); err != nil {
		t.Fatal(err)
	}
	if got := s.rec.Body.String(); got != ev || s.flushes != 0 {
		t.Fatalf("before the upstream flushed: body %q, %d flushes; want the complete event, no flush", got, s.flushes)
	}
	s.Flush()
	if s.flushes != 1 {
		t.Fatalf("%d flushes after the upstream's Flush, want 1", s.flushes)
	}
}

// TestSSEBOMAndTail: a rewritten first event loses the stream's optional
// BOM (an unchanged one keeps it); an incomplete final event is dropped,
// not inspected (the go-sdk client would dispatch it).
func TestSSEBOMAndTail(t *testing.T) {
	s := newSSEWriter(testFilter(t), 1<<10)
	in := "\xEF\xBB\xBFdata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"admin.x\"}]}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"admin.y\"}]}}" // no terminator
	if _, err := s.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	s.finish()
	if got := s.rec.Body.String(); got != "data: {\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"tools\":[]}}\n\n" {
		t.Errorf("got %q", got)
	}
}

// TestSSEFailure: an event that cannot be authorized ends the stream: the
// POST's requests not answered yet get a -32603 error event each, in body
// order, the upstream's context is cancelled and its writes fail. A GET
// stream just ends.
func TestSSEFailure(t *testing.T) {
	const ok = "data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n\n"
	errEvent := func(id string) string {
		return string(mcpwire.MessageEvent(mcpwire.ErrorBody(json.RawMessage(id), mcpwire.CodeInternalError, "upstream response could not be authorized", nil)))
	}
	tests := []struct {
		name, in, want string
		get            bool
		max            int
	}{
		{"unparsable", ok + "data: {\"jsonrpc\":\n\n", ok + errEvent("1") + errEvent(`"c"`), false, 0},
		{"not JSON-RPC", "event: endpoint\ndata: /messages?session=1\n\n", errEvent("1") + errEvent("2") + errEvent(`"c"`), false, 0},
		{"unsolicited", ok + "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":[{\"name\":\"admin.x\"}]}}\n\n", ok + errEvent("1") + errEvent(`"c"`), false, 0},
		{"list without its list", "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n", errEvent("1") + errEvent("2") + errEvent(`"c"`), false, 0},
		{"too large", ok + "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"" + strings.Repeat("x", 200) + "\"}]}}\n\n",
			ok + errEvent("1") + errEvent(`"c"`), false, 128},
		{"GET stream", ok + "data: {bad\n\n", ok, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testFilter(t, "1 tools/list", "2 ping", `"c" tools/call`)
			if tt.get {
				a = testFilter(t)
			}
			limit := 1 << 10
			if tt.max > 0 {
				limit = tt.max
			}
			s := newSSEWriter(a, limit, "1", "2", `"c"`)
			_, err := s.Write([]byte(tt.in))
			if err == nil {
				t.Fatal("the upstream's write succeeded")
			}
			if _, err := s.Write([]byte(ok)); err == nil {
				t.Error("a write after the failure succeeded")
			}
			s.finish()
			if got := s.rec.Body.String(); got != tt.want || !s.cancelled {
				t.Errorf("got %q (cancelled %v)\nwant %q", got, s.cancelled, tt.want)
			}
			if !errors.Is(err, errUnauthorizable) && !errors.Is(err, mcpwire.ErrEventTooLarge) {
				t.Errorf("err = %v", err)
			}
		})
	}
}
