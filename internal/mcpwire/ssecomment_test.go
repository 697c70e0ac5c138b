package mcpwire

import (
	"bytes"
	"fmt"
	"testing"
)

func TestEncodeComment(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"keep-alive", ": keep-alive\n\n"},
		{"", ":\n\n"},
		{"a\r\nb\rc\nd", ": a\n: b\n: c\n: d\n\n"},
	} {
		if got := string(EncodeComment(tt.text)); got != tt.want {
			t.Errorf("EncodeComment(%q) = %q, want %q", tt.text, got, tt.want)
		}
		var got []Event
		s := Splitter{OnEvent: func(raw []byte) error { got = append(got, ParseEvent(raw)); return nil }}
		if _, err := s.Write(EncodeComment(tt.text)); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].HasData || got[0].Type != "" || got[0].ID != "" || got[0].IsMessage() {
			t.Errorf("EncodeComment(%q) parses as %+v, want one event with no field", tt.text, got)
		}
	}
}

// boundaryStreams end lines every way the grammar allows.
var boundaryStreams = []string{
	"event: message\nid: 1\ndata: {\"a\":1}\n\ndata: 2\n\n",
	"event: message\r\nid: 1\r\ndata: {\"a\":1}\r\n\r\ndata: 2\r\n\r\n",
	"event: message\rid: 1\rdata: {\"a\":1}\r\rdata: 2\r\r",
	"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r\n",
	"\xEF\xBB\xBF: ok\n\n\n\r\ndata: x\n\n",
	": keep-alive\n\ndata\n\n",
}

// TestEventBoundaryMatchesSplitter: at every prefix of every stream, written
// in chunks of every size (so CRLFs are split across writes), AtBoundary
// agrees with the Splitter holding no incomplete event.
func TestEventBoundaryMatchesSplitter(t *testing.T) {
	for _, stream := range boundaryStreams {
		for n := 1; n <= len(stream); n++ {
			var b EventBoundary
			s := Splitter{OnEvent: func([]byte) error { return nil }}
			if !b.AtBoundary() {
				t.Fatal("a new stream is not at a boundary")
			}
			for i := 0; i < len(stream); i += n {
				chunk := []byte(stream[i:min(i+n, len(stream))])
				_, _ = b.Write(chunk)
				if _, err := s.Write(chunk); err != nil {
					t.Fatal(err)
				}
				if got, want := b.AtBoundary(), len(s.pending) == 0; got != want {
					t.Fatalf("%q in chunks of %d, after %q: AtBoundary %v, want %v", stream, n, stream[:min(i+n, len(stream))], got, want)
				}
			}
			if !b.AtBoundary() {
				t.Fatalf("%q: not at a boundary at its end", stream)
			}
		}
	}
}

// TestCommentAtBoundaryChangesNoEvent: a comment inserted wherever
// AtBoundary holds leaves the events clients read unchanged; inserted
// inside an event (where it does not hold) it would split that event,
// which is why the check exists.
func TestCommentAtBoundaryChangesNoEvent(t *testing.T) {
	comment := EncodeComment("keep-alive")
	for _, stream := range boundaryStreams {
		want := messages(t, []byte(stream))
		split := false
		for i := 0; i <= len(stream); i++ {
			var b EventBoundary
			_, _ = b.Write([]byte(stream[:i]))
			with := append(append([]byte(stream[:i]), comment...), stream[i:]...)
			got := messages(t, with)
			if b.AtBoundary() && got != want {
				t.Errorf("%q: comment at %d (a boundary) changed the events: %s, want %s", stream, i, got, want)
			}
			split = split || (!b.AtBoundary() && got != want)
		}
		if !split {
			t.Errorf("%q: a comment inside an event never changed the events; the test shows nothing", stream)
		}
	}
}

// messages renders the events a client dispatches (those with fields).
func messages(t *testing.T, stream []byte) string {
	t.Helper()
	var out bytes.Buffer
	s := Splitter{OnEvent: func(raw []byte) error {
		if ev := ParseEvent(raw); ev.HasData || ev.Type != "" || ev.ID != "" {
			fmt.Fprintf(&out, "[%s|%s|%s]", ev.Type, ev.ID, ev.Data)
		}
		return nil
	}}
	if _, err := s.Write(stream); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
