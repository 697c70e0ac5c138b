package mcpwire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// events splits stream with one Write per chunk of size n (0: one Write).
func events(t testing.TB, stream string, n int) ([]Event, error) {
	t.Helper()
	var out []Event
	s := Splitter{OnEvent: func(raw []byte) error {
		out = append(out, ParseEvent(bytes.Clone(raw)))
		return nil
	}}
	b := []byte(stream)
	if n <= 0 {
		n = len(b) + 1
	}
	for len(b) > 0 {
		k := min(n, len(b))
		if _, err := s.Write(b[:k]); err != nil {
			return out, err
		}
		b = b[k:]
	}
	return out, nil
}

func TestSplitterLineEnds(t *testing.T) {
	type ev struct{ typ, id, data string }
	tests := []struct {
		name   string
		stream string
		want   []ev
	}{
		{"LF", "event: message\nid: 1\ndata: {\"a\":1}\n\n", []ev{{"message", "1", `{"a":1}`}}},
		{"CRLF", "event: message\r\nid: 1\r\ndata: {\"a\":1}\r\n\r\n", []ev{{"message", "1", `{"a":1}`}}},
		{"CR", "event: message\rid: 1\rdata: {\"a\":1}\r\r", []ev{{"message", "1", `{"a":1}`}}},
		{"mixed", "data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r\n", []ev{{"", "", "a\nb\nc"}, {"", "", "d"}}},
		{"two events", "data: 1\n\ndata: 2\n\n", []ev{{"", "", "1"}, {"", "", "2"}}},
		{"BOM and comment", "\xEF\xBB\xBF: keep-alive\ndata: x\n\n", []ev{{"", "", "x"}}},
		{"no space after colon", "data:x\nevent:endpoint\n\n", []ev{{"endpoint", "", "x"}}},
		{"stray blank lines", "\n\r\n\rdata: x\n\n\n\n", []ev{{"", "", "x"}}},
		{"empty data line", "data\n\n", []ev{{"", "", ""}}},
	}
	for _, tt := range tests {
		for n := 0; n <= len(tt.stream); n++ { // every chunk size: CRLF split across writes
			got, err := events(t, tt.stream, n)
			if err != nil {
				t.Fatalf("%s/%d: %v", tt.name, n, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%s/%d: %d events, want %d: %+v", tt.name, n, len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				if g := got[i]; g.Type != w.typ || g.ID != w.id || string(g.Data) != w.data || !g.HasData {
					t.Errorf("%s/%d event %d = {%q %q %q}, want %+v", tt.name, n, i, g.Type, g.ID, g.Data, w)
				}
			}
		}
	}
}

func TestSplitterKeepsRawBytes(t *testing.T) {
	stream := "\xEF\xBB\xBFid: 7\r\ndata: a\r\n\r\ndata: b\rretry: 5\r\r"
	var raw []string
	s := Splitter{OnEvent: func(b []byte) error { raw = append(raw, string(b)); return nil }}
	if _, err := s.Write([]byte(stream)); err != nil {
		t.Fatal(err)
	}
	// The stream ends in a CR ending a blank line: its LF is added.
	if strings.Join(raw, "") != stream+"\n" {
		t.Fatalf("raw %q, want %q", raw, stream+"\n")
	}
}

func TestSplitterCap(t *testing.T) {
	s := Splitter{Max: 16, OnEvent: func([]byte) error { return nil }}
	if _, err := s.Write([]byte("data: 0123456789abcdef")); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
	s = Splitter{Max: 16, OnEvent: func([]byte) error { return nil }}
	if _, err := s.Write([]byte("data: 12345\n\ndata: 12345\n\n")); err != nil {
		t.Fatalf("events under the cap refused: %v", err)
	}
}

func TestReader(t *testing.T) {
	stream := "event: endpoint\rdata: /messages?s=1\r\rdata: {\"id\":1}\r\n\r\ndata: cut"
	rd := NewReader(iotest.OneByteReader(strings.NewReader(stream)), 0)
	ev, err := rd.Next()
	if err != nil || ev.Type != "endpoint" || string(ev.Data) != "/messages?s=1" {
		t.Fatalf("first = %+v, %v", ev, err)
	}
	ev, err = rd.Next()
	if err != nil || !ev.IsMessage() || string(ev.Data) != `{"id":1}` {
		t.Fatalf("second = %+v, %v", ev, err)
	}
	if _, err = rd.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut event: err = %v, want io.ErrUnexpectedEOF", err)
	}
	rd = NewReader(strings.NewReader("data: x\n\n\n"), 0)
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("clean end: err = %v, want io.EOF", err)
	}
	rd = NewReader(strings.NewReader("data: "+strings.Repeat("x", 64)+"\n\n"), 32)
	if _, err := rd.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("large: err = %v", err)
	}
}

func TestEncodeEventRoundTrip(t *testing.T) {
	for _, ev := range []Event{
		{Type: "message", Data: []byte(`{"jsonrpc":"2.0"}`), HasData: true},
		{ID: "42", Data: []byte("a\nb\r\nc\rd"), HasData: true},
		{Retry: "1000"},
	} {
		got := ParseEvent(EncodeEvent(ev))
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(ev.Data))
		if got.Type != ev.Type || got.ID != ev.ID || got.Retry != ev.Retry || string(got.Data) != want || got.HasData != ev.HasData {
			t.Errorf("round trip of %+v = %+v", ev, got)
		}
	}
	if got := string(MessageEvent([]byte(`{}`))); got != "event: message\ndata: {}\n\n" {
		t.Fatalf("MessageEvent = %q", got)
	}
}

// FuzzSSE checks that the Reader (any chunking) and one Splitter write see
// the same events, and that re-encoding an event keeps its fields.
func FuzzSSE(f *testing.F) {
	for _, s := range []string{"data: a\n\n", "data: a\r\n\r\n", "data: a\r\r", "event: x\rdata: 1\rdata: 2\r\n\r\n", "\xEF\xBB\xBFdata\n\n", ": c\nid: 1\n\n"} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		whole, err := events(t, string(stream), 0)
		if err != nil {
			t.Skip()
		}
		rd := NewReader(iotest.HalfReader(&chunkReader{b: stream, n: int(chunk%16) + 1}), 0)
		var pulled []Event
		for {
			ev, err := rd.Next()
			if err != nil {
				break
			}
			pulled = append(pulled, ev)
		}
		if len(pulled) != len(whole) {
			t.Fatalf("reader %d events, splitter %d", len(pulled), len(whole))
		}
		for i := range whole {
			a, b := whole[i], pulled[i]
			if a.Type != b.Type || a.ID != b.ID || !bytes.Equal(a.Data, b.Data) || a.HasData != b.HasData {
				t.Fatalf("event %d differs: %+v vs %+v", i, a, b)
			}
			if !a.HasData || bytes.ContainsAny([]byte(a.Type+a.ID+a.Retry), "\r\n") {
				continue
			}
			re := ParseEvent(EncodeEvent(a))
			if re.Type != a.Type || re.ID != a.ID || !bytes.Equal(re.Data, a.Data) {
				t.Fatalf("re-encoded %+v = %+v", a, re)
			}
		}
	})
}

type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.b))
	copy(p, c.b[:k])
	c.b = c.b[k:]
	return k, nil
}
