package authz

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestSSERewriterGolden feeds a stream mixing LF, CRLF and CR line ends, a
// comment, a progress notification, list responses (one split over two data
// lines, one a batch) and a non-message event, in chunks of every size:
// the output is the same each time, allowed events are byte for byte, and
// each event is flushed as soon as it is complete.
func TestSSERewriterGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/stream.sse")
	if err != nil {
		t.Fatal(err)
	}
	tools, _ := listKindOf("tools/list")
	prompts, _ := listKindOf("prompts/list")
	l := testLister(map[string]listKind{mustKey("3"): tools, mustKey("99"): tools, mustKey(`"p"`): prompts})
	var first []byte
	for size := 1; size <= len(in); size++ {
		var out bytes.Buffer
		flushes := 0
		s := &sseRewriter{out: &out, flush: func() { flushes++ }, rewrite: l.filter, max: 1 << 10}
		for rest := in; len(rest) > 0; {
			n := min(size, len(rest))
			if _, err := s.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if flushes != 6 {
			t.Fatalf("size %d: %d flushes, want 6 (one per event)", size, flushes)
		}
		if first == nil {
			first = out.Bytes()
			golden(t, "stream.golden.sse", first)
		} else if !bytes.Equal(out.Bytes(), first) {
			t.Fatalf("size %d: output differs:\n%q\n%q", size, out.Bytes(), first)
		}
	}
	if !bytes.Contains(first, []byte("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"")) ||
		bytes.Contains(first, []byte("admin.")) || bytes.Contains(first, []byte("secret")) {
		t.Errorf("unexpected output %q", first)
	}
}

func TestSSERewriterBOMAndTail(t *testing.T) {
	l := testLister(nil)
	var out bytes.Buffer
	s := &sseRewriter{out: &out, flush: func() {}, rewrite: l.filter, max: 1 << 10}
	in := "\xEF\xBB\xBFdata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"admin.x\"}]}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"admin.y\"}]}}" // no terminator
	if _, err := s.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "\xEF\xBB\xBF") || strings.Contains(got, "admin.") {
		t.Errorf("got %q", got)
	}
}

func TestSSERewriterCap(t *testing.T) {
	var out bytes.Buffer
	s := &sseRewriter{out: &out, flush: func() {}, rewrite: testLister(nil).filter, max: 64}
	if _, err := s.Write([]byte("data: " + strings.Repeat("x", 100))); !errors.Is(err, errEventTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("part of an oversized event was forwarded: %q", out.String())
	}
}
