package mcpwire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// stdMessage is how encoding/json (case-insensitive member names, the last
// duplicate winning) reads a message: the lenient peer ParseBody must not
// disagree with.
type stdMessage struct {
	JSONRPC *string         `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  *string         `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

// wireMessage re-encodes a parsed message from its fields.
type wireMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

// FuzzParseBody feeds arbitrary POST bodies to ParseBody (JSON-RPC 2.0 §4-§6).
// Properties: it never panics; it refuses with HTTP 400 and -32700 exactly
// when the body is not UTF-8 JSON, else -32600; an accepted body is valid
// JSON, and encoding/json reads the same jsonrpc, method, id and members in
// each message (no duplicate or case-folded member lets a lenient decoder
// see another request); each message re-encoded from its fields re-parses to
// the same id key, method and kind, and the re-encoded body to the same
// messages. Seeds: testdata/fuzz/FuzzParseBody.
func FuzzParseBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		b, perr := mcpwire.ParseBody(body)
		valid := utf8.Valid(body) && json.Valid(body)
		if perr != nil {
			if perr.Status != http.StatusBadRequest || (perr.Code == mcpwire.CodeParseError) == valid ||
				perr.Code != mcpwire.CodeParseError && perr.Code != mcpwire.CodeInvalidRequest {
				t.Fatalf("refusal %d %d %q for %q (valid JSON: %v)", perr.Status, perr.Code, perr.Message, body, valid)
			}
			return
		}
		if !valid || !bytes.Equal(b.Raw, body) || len(b.Messages) == 0 || !b.Batch && len(b.Messages) != 1 {
			t.Fatalf("accepted %q as %d messages (batch %v)", body, len(b.Messages), b.Batch)
		}
		raws := make([]json.RawMessage, len(b.Messages))
		for i := range b.Messages {
			m := &b.Messages[i]
			agreeWithStd(t, m)
			raws[i] = reencode(t, m)
		}
		var again []byte
		if b.Batch {
			again, _ = mcpwire.Marshal(raws)
		} else {
			again = raws[0]
		}
		b2, perr := mcpwire.ParseBody(again)
		if perr != nil || b2.Batch != b.Batch || len(b2.Messages) != len(b.Messages) {
			t.Fatalf("re-encoded body %s: %v", again, perr)
		}
		for i := range b.Messages {
			sameMessage(t, &b.Messages[i], &b2.Messages[i])
		}
	})
}

// agreeWithStd checks that encoding/json reads m as ParseMessage did.
func agreeWithStd(t *testing.T, m *mcpwire.Message) {
	t.Helper()
	var std stdMessage
	if err := json.Unmarshal(m.Raw, &std); err != nil {
		t.Fatalf("encoding/json refuses accepted message %s: %v", m.Raw, err)
	}
	if std.JSONRPC == nil || *std.JSONRPC != mcpwire.Version {
		t.Fatalf("encoding/json reads no jsonrpc 2.0 in %s", m.Raw)
	}
	if std.Method == nil && m.Method != "" || std.Method != nil && *std.Method != m.Method {
		t.Fatalf("method %q, encoding/json reads %v in %s", m.Method, std.Method, m.Raw)
	}
	k, ok := m.Key()
	sk, sok := mcpwire.KeyOf(std.ID)
	if ok != sok || k != sk {
		t.Fatalf("id key %q (%v), encoding/json reads %q (%v) in %s", k, ok, sk, sok, m.Raw)
	}
	for _, p := range [][2]json.RawMessage{{m.Params, std.Params}, {m.Result, std.Result}, {m.Error, std.Error}} {
		if (p[0] == nil) != (p[1] == nil) || p[0] != nil && compact(t, p[0]) != compact(t, p[1]) {
			t.Fatalf("member %s, encoding/json reads %s in %s", p[0], p[1], m.Raw)
		}
	}
}

// reencode builds m anew from its fields and checks that it parses back to
// the same message.
func reencode(t *testing.T, m *mcpwire.Message) json.RawMessage {
	t.Helper()
	w := wireMessage{JSONRPC: mcpwire.Version, ID: m.ID, Method: m.Method, Params: m.Params, Result: m.Result, Error: m.Error}
	if m.ID == nil && m.IsResponse() {
		w.ID = json.RawMessage("null") // an error response answering no id
	}
	raw, err := mcpwire.Marshal(w)
	if err != nil {
		t.Fatalf("re-encoding %s: %v", m.Raw, err)
	}
	m2, perr := mcpwire.ParseMessage(raw)
	if perr != nil {
		t.Fatalf("re-encoded %s (from %s) refused: %v", raw, m.Raw, perr)
	}
	sameMessage(t, m, &m2)
	return raw
}

func sameMessage(t *testing.T, a, b *mcpwire.Message) {
	t.Helper()
	ka, oka := a.Key()
	kb, okb := b.Key()
	if ka != kb || oka != okb || a.Method != b.Method || a.IsRequest() != b.IsRequest() ||
		a.IsNotification() != b.IsNotification() || a.IsResponse() != b.IsResponse() {
		t.Fatalf("%s re-parsed as a different message: %s", a.Raw, b.Raw)
	}
	for _, p := range [][2]json.RawMessage{{a.Params, b.Params}, {a.Result, b.Result}, {a.Error, b.Error}} {
		if (p[0] == nil) != (p[1] == nil) || p[0] != nil && compact(t, p[0]) != compact(t, p[1]) {
			t.Fatalf("%s re-parsed with member %s as %s", a.Raw, p[0], p[1])
		}
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("member %q is not JSON: %v", raw, err)
	}
	return b.String()
}

// sseResult is what one way of splitting a stream produced.
type sseResult struct {
	raws     []string
	events   []mcpwire.Event // parsed, Raw cleared
	complete int             // events before Flush
	tail     bool            // Flush handed over an unterminated event
	err      error
}

func (r *sseResult) add(raw []byte) error {
	r.raws = append(r.raws, string(raw))
	ev := mcpwire.ParseEvent(bytes.Clone(raw))
	ev.Raw = nil
	r.events = append(r.events, ev)
	return nil
}

// sameRaws compares the raw events of a whole stream with those of a
// chunked one: equal, except that a blank line ending in a CR that ended a
// chunk gained its LF (see mcpwire.Splitter).
func sameRaws(whole, chunked []string) bool {
	for i := range whole {
		if whole[i] != chunked[i] && !(strings.HasSuffix(whole[i], "\r") && chunked[i] == whole[i]+"\n") {
			return false
		}
	}
	return true
}

// capSlack reports the size-cap consequence of the difference sameRaws
// allows: the chunked stream's event, its LF added, was one byte over max,
// and the whole stream's exactly max.
func capSlack(whole, chunked *sseResult, max int) bool {
	i := len(chunked.raws)
	return chunked.err != nil && whole.err == nil && i < len(whole.raws) &&
		len(whole.raws[i]) == max && strings.HasSuffix(whole.raws[i], "\r")
}

// chunks cuts stream into pieces whose sizes cuts gives in turn (0 is an
// empty write, then one byte); no cuts means one byte at a time.
func chunks(stream, cuts []byte) [][]byte {
	var out [][]byte
	for i := 0; len(stream) > 0; i++ {
		n := 1
		if len(cuts) > 0 {
			n = min(int(cuts[i%len(cuts)]%13), len(stream))
		}
		if n == 0 {
			out = append(out, nil)
			n = 1
		}
		out = append(out, stream[:n])
		stream = stream[n:]
	}
	return out
}

// split runs a Splitter over the pieces and flushes the tail.
func split(pieces [][]byte, max int) *sseResult {
	r := &sseResult{}
	s := mcpwire.Splitter{Max: max, OnEvent: r.add}
	for _, p := range pieces {
		if _, err := s.Write(p); err != nil {
			r.err, r.complete = err, len(r.events)
			return r
		}
	}
	r.complete = len(r.events)
	if _, err := s.Flush(); err != nil {
		r.err = err
	}
	r.tail = len(r.events) > r.complete
	return r
}

// chunkReader reads pieces one per Read.
type chunkReader struct{ pieces [][]byte }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.pieces) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.pieces[0])
	if c.pieces[0] = c.pieces[0][n:]; len(c.pieces[0]) == 0 {
		c.pieces = c.pieces[1:]
	}
	return n, nil
}

// FuzzSSESplitter feeds an arbitrary text/event-stream to the Splitter whole
// and in arbitrary chunks (CRLF split across writes, empty writes), and to
// a Reader in the same chunks (HTML Living Standard §9.2.6). Properties: no
// panic; every chunking yields the same events (fields and raw bytes, but
// see sameRaws) and the same size-cap failure as the whole stream; the
// Reader returns the Splitter's complete events and then io.EOF, or
// io.ErrUnexpectedEOF when an unterminated tail was cut off, or the
// size-cap error.
// Seeds: testdata/fuzz/FuzzSSESplitter.
func FuzzSSESplitter(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream, cuts []byte, smallMax uint8) {
		max := 0 // the default cap
		if smallMax != 0 {
			max = int(smallMax)
		}
		whole := split([][]byte{stream}, max)
		pieces := chunks(stream, cuts)
		chunked := split(pieces, max)
		if (whole.err == nil) != (chunked.err == nil) && !capSlack(whole, chunked, max) ||
			whole.err != nil && chunked.err != nil && !errors.Is(chunked.err, mcpwire.ErrEventTooLarge) {
			t.Fatalf("whole: %v, chunked: %v", whole.err, chunked.err)
		}
		n := min(len(whole.raws), len(chunked.raws))
		if whole.err == nil && chunked.err == nil && len(whole.raws) != len(chunked.raws) ||
			!sameRaws(whole.raws[:n], chunked.raws[:n]) || n > 0 && !reflect.DeepEqual(whole.events[:n], chunked.events[:n]) {
			t.Fatalf("stream %q\nwhole:   %q\nchunked: %q (pieces %q)", stream, whole.raws, chunked.raws, pieces)
		}

		rd := mcpwire.NewReader(&chunkReader{pieces: chunks(stream, cuts)}, max)
		var got []mcpwire.Event
		var err error
		for {
			var ev mcpwire.Event
			if ev, err = rd.Next(); err != nil {
				break
			}
			ev.Raw = nil
			got = append(got, ev)
		}
		want := io.EOF
		switch {
		case chunked.err != nil:
			want = mcpwire.ErrEventTooLarge
		case chunked.tail:
			want = io.ErrUnexpectedEOF
		}
		complete := chunked.events[:chunked.complete]
		if !errors.Is(err, want) || len(got)+len(complete) > 0 && !reflect.DeepEqual(got, complete) {
			t.Fatalf("stream %q: Reader gave %d events then %v, want %d then %v", stream, len(got), err, len(complete), want)
		}
	})
}
