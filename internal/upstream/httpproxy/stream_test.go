package httpproxy

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// callRecorder is a ResponseWriter that records the calls made on it, from
// any goroutine.
type callRecorder struct {
	mu    sync.Mutex
	h     http.Header
	calls []string
}

func (c *callRecorder) Header() http.Header { return c.h }

func (c *callRecorder) WriteHeader(code int) { c.add(fmt.Sprintf("header %d", code)) }

func (c *callRecorder) Write(p []byte) (int, error) {
	c.add("write " + string(p))
	return len(p), nil
}

func (c *callRecorder) Flush() { c.add("flush") }

func (c *callRecorder) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *callRecorder) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// TestEventWriterHold: a POST stream's status line never goes out alone
// before the hold ends: events sent during the hold go out with it in one
// write (at the hold's end, when too much is held, or when the stream
// ends, then unflushed); afterwards each event sent is written and flushed
// at once; without a hold the headers are flushed at once.
func TestEventWriterHold(t *testing.T) {
	t.Run("stream ends within the hold", func(t *testing.T) {
		rec := &callRecorder{h: http.Header{}}
		ew := newEventWriter(rec, 200, time.Hour)
		for _, ev := range []string{"a\n\n", "b\n\n"} {
			if err := ew.send([]byte(ev)); err != nil {
				t.Fatal(err)
			}
		}
		if got := rec.got(); len(got) != 0 {
			t.Fatalf("written during the hold: %q", got)
		}
		ew.close()
		// Not flushed: net/http writes it with the end of the response.
		if got, want := rec.got(), []string{"header 200", "write a\n\nb\n\n"}; !slices.Equal(got, want) {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
	t.Run("hold ends", func(t *testing.T) {
		checkLeaks(t)
		rec := &callRecorder{h: http.Header{}}
		ew := newEventWriter(rec, 200, time.Millisecond)
		defer ew.close()
		waitFor(t, "the hold to end", func() bool { return len(rec.got()) == 2 })
		if err := ew.send([]byte("a\n\n")); err != nil {
			t.Fatal(err)
		}
		if got, want := rec.got(), []string{"header 200", "flush", "write a\n\n", "flush"}; !slices.Equal(got, want) {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
	t.Run("too much held", func(t *testing.T) {
		rec := &callRecorder{h: http.Header{}}
		ew := newEventWriter(rec, 200, time.Hour)
		big := strings.Repeat("x", maxHeldBytes) + "\n\n"
		if err := ew.send([]byte(big)); err != nil {
			t.Fatal(err)
		}
		if got := rec.got(); len(got) != 3 || got[0] != "header 200" || got[1] != "write "+big {
			t.Errorf("big event held: %d calls", len(got))
		}
		ew.close()
		if n := len(rec.got()); n != 3 {
			t.Errorf("close wrote again: %d calls", n)
		}
	})
	t.Run("no hold", func(t *testing.T) {
		rec := &callRecorder{h: http.Header{}}
		ew := newEventWriter(rec, 200, 0)
		if got, want := rec.got(), []string{"header 200", "flush"}; !slices.Equal(got, want) {
			t.Errorf("calls %q, want %q", got, want)
		}
		ew.close()
	})
	t.Run("events written together are flushed together", func(t *testing.T) {
		rec := &callRecorder{h: http.Header{}}
		ew := newEventWriter(rec, 200, 0)
		for _, ev := range []string{"a\n\n", "b\n\n"} {
			if err := ew.write([]byte(ev), false); err != nil {
				t.Fatal(err)
			}
		}
		ew.idle()
		ew.idle() // nothing new: no second flush
		ew.close()
		want := []string{"header 200", "flush", "write a\n\n", "write b\n\n", "flush"}
		if got := rec.got(); !slices.Equal(got, want) {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
	t.Run("an answer the stream outlives is flushed after endGrace", func(t *testing.T) {
		checkLeaks(t)
		rec := &callRecorder{h: http.Header{}}
		ew := newEventWriter(rec, 200, 0)
		ew.endAfter = time.Millisecond
		defer ew.close()
		if err := ew.write([]byte("a\n\n"), true); err != nil {
			t.Fatal(err)
		}
		ew.idle()
		waitFor(t, "the answer to be flushed", func() bool { return len(rec.got()) == 4 })
		if got, want := rec.got(), []string{"header 200", "flush", "write a\n\n", "flush"}; !slices.Equal(got, want) {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
}
