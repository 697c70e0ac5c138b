package stdio

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// Retention of one stream's events for Last-Event-ID resumption and for
// messages waiting for a GET; the newest event is always kept.
const (
	maxStreamEvents = 256
	maxStreamBytes  = 8 << 20
)

// event is one SSE event of a stream: one JSON-RPC message.
type event struct {
	idx  int
	data []byte
}

// stream is one logical SSE stream of a session: the answer to one POST
// with requests, or the standalone stream GET opens. Its fields are guarded
// by the session's mutex.
type stream struct {
	id         string
	standalone bool
	seq        uint64 // opening order among the session's streams
	events     []event
	bytes      int
	next       int // index of the next event
	delivered  int // standalone: events before it were written to a GET
	// pending maps the canonical key of each unanswered request to its raw id.
	pending  map[mcpwire.Key]json.RawMessage
	tokens   []mcpwire.Key // progress tokens registered for this stream
	upstream int           // events that came from the child (not the gateway)
	attached bool          // an HTTP response is writing this stream
	wake     chan struct{}
	timer    timer // resume window after a disconnect
	// deadline is Options.Timeout from opened (POST streams); timedOut:
	// it passed before the child sent anything for the stream.
	deadline timer
	opened   time.Time
	timedOut bool
}

// stopTimers stops the stream's resume-window and deadline timers.
func (st *stream) stopTimers() {
	for _, t := range []timer{st.timer, st.deadline} {
		if t != nil {
			t.Stop()
		}
	}
}

func newStream(id string, standalone bool, seq uint64) *stream {
	return &stream{id: id, standalone: standalone, seq: seq,
		pending: map[mcpwire.Key]json.RawMessage{}, wake: make(chan struct{}, 1)}
}

// appendLocked adds one message and wakes the writer.
func (st *stream) appendLocked(data []byte, fromUpstream bool) {
	st.events = append(st.events, event{idx: st.next, data: data})
	st.next++
	st.bytes += len(data)
	if fromUpstream {
		st.upstream++
	}
	for len(st.events) > 1 && (len(st.events) > maxStreamEvents || st.bytes > maxStreamBytes) {
		st.bytes -= len(st.events[0].data)
		st.events[0] = event{}
		st.events = st.events[1:]
	}
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// completeLocked reports whether a POST stream has every response.
func (st *stream) completeLocked() bool { return !st.standalone && len(st.pending) == 0 }

// eventsFromLocked returns the retained events with index >= from.
func (st *stream) eventsFromLocked(from int) []event {
	for i, e := range st.events {
		if e.idx >= from {
			return append([]event(nil), st.events[i:]...)
		}
	}
	return nil
}

// eventID is the SSE id of event idx: "<stream>_<idx>".
func (st *stream) eventID(idx int) string { return st.id + "_" + strconv.Itoa(idx) }

// parseEventID splits a Last-Event-ID into stream id and index.
func parseEventID(s string) (streamID string, idx int, ok bool) {
	i := strings.LastIndexByte(s, '_')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return s[:i], n, true
}

// serveStream writes st's events from index cursor to w as SSE until a POST
// stream has all its responses, the session ends, or the client goes away
// (then the stream is detached and kept for resumption). Response headers
// are written with the first event, so that a request whose session ends
// before the child wrote anything for it gets an HTTP error status instead
// (endStatus: 502 after a crash; 504 when Options.Timeout passed first)
// with the JSON-RPC error(s) as the body.
// A GET (eager) gets its headers and an SSE comment at once: clients wait
// for them before they go on. It reports false if the client went away
// first.
func (s *session) serveStream(w http.ResponseWriter, r *http.Request, st *stream, cursor int, eager bool) bool {
	rc := http.NewResponseController(w)
	wrote := false
	if eager {
		writeSSEHeader(w)
		_, _ = io.WriteString(w, ": stream open\n\n")
		_ = rc.Flush()
		wrote = true
	}
	for {
		s.mu.Lock()
		evs := st.eventsFromLocked(cursor)
		complete := st.completeLocked()
		ended := s.ended
		status := s.endStatus
		fromChild := st.upstream
		timedOut := st.timedOut
		s.mu.Unlock()

		if !wrote && !st.standalone && (timedOut || ended && fromChild == 0) {
			s.forget(st)
			if timedOut {
				status = http.StatusGatewayTimeout
			}
			s.recordFailure(r, st, status)
			writeJSONMessages(w, status, evs)
			return true
		}
		if !wrote && (len(evs) > 0 || complete || ended) {
			if !eager && !st.standalone {
				observe.SetUpstream(r.Context(), 0, s.srv.o.now().Sub(st.opened), "")
			}
			writeSSEHeader(w)
			wrote = true
		}
		for _, e := range evs {
			ev := mcpwire.Event{Type: "message", ID: st.eventID(e.idx), Data: e.data, HasData: true}
			if _, err := w.Write(mcpwire.EncodeEvent(ev)); err != nil {
				s.detach(st)
				return false
			}
			cursor = e.idx + 1
		}
		if len(evs) > 0 {
			if err := rc.Flush(); err != nil {
				s.detach(st)
				return false
			}
		}
		if len(evs) > 0 && st.standalone {
			s.mu.Lock()
			st.delivered = max(st.delivered, cursor)
			s.mu.Unlock()
		}
		if complete || ended {
			if !st.standalone {
				s.forget(st)
			} else {
				s.detach(st)
			}
			return true
		}
		select {
		case <-st.wake:
		case <-s.done:
		case <-r.Context().Done():
			s.detach(st)
			return false
		}
	}
}

func writeSSEHeader(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
}

// writeJSONMessages answers with status and the messages as the body (one
// object, or an array for several).
func writeJSONMessages(w http.ResponseWriter, status int, evs []event) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if len(evs) == 1 {
		_, _ = w.Write(append(evs[0].data, '\n'))
		return
	}
	raws := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		raws[i] = e.data
	}
	b, _ := mcpwire.Marshal(raws)
	_, _ = w.Write(append(b, '\n'))
}
