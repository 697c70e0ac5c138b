package mcpwire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventBytes bounds one server-sent event held for inspection.
const DefaultMaxEventBytes = 16 << 20

// ErrEventTooLarge is an event (or its incomplete tail) beyond the cap: it
// cannot be inspected, so it must not be forwarded.
var ErrEventTooLarge = errors.New("mcpwire: server-sent event exceeds the size cap")

// utf8BOM may open an event stream; parsers ignore it (HTML "Server-sent
// events" §9.2.5).
var utf8BOM = []byte("\xEF\xBB\xBF")

// Event is one server-sent event (HTML Living Standard §9.2.6).
type Event struct {
	// Raw is the event as received: its lines with their original line
	// ends, and the blank line that ended it (none for a final event cut
	// by the end of the stream). A BOM opening the stream is kept in the
	// first event's Raw. One exception (see [Splitter]): a blank line
	// ending in a CR that was the last byte of a write ends in CRLF.
	Raw []byte
	// Type is the event field; "" means "message".
	Type string
	ID   string
	// Data is the data lines joined by "\n"; HasData is false when the
	// event had no data line (clients then dispatch nothing).
	Data    []byte
	HasData bool
	Retry   string
}

// IsMessage reports an event clients dispatch as "message" with data.
func (e *Event) IsMessage() bool { return e.HasData && (e.Type == "" || e.Type == "message") }

// Splitter is the one SSE line grammar, push-style: written bytes are split
// into complete events (ended by a blank line; lines end in CRLF, LF or a
// lone CR, even when a CRLF is split across writes) and handed to OnEvent
// as raw bytes. Only the incomplete tail is held, at most Max bytes.
//
// An event whose blank line ends in a CR that is the last byte of a write
// is handed over at once, before the next byte says whether an LF follows:
// its raw bytes then end in CRLF, the LF added, and an LF that does follow
// is not repeated. Events therefore do not depend on where writes split
// a CRLF, and forwarding them never leaves a lone CR before the next event,
// which clients that end lines at LF only (the go-sdk client) would read
// as part of that event's first line. To every SSE parser "\r" and
// "\r\n" end the blank line alike.
type Splitter struct {
	// OnEvent receives each complete event's raw bytes; the slice is not
	// retained by the Splitter. An error stops the Write that produced it.
	OnEvent func(raw []byte) error
	// Max bounds the held tail (default DefaultMaxEventBytes).
	Max int

	pending   []byte
	lineStart int
	sawCR     bool // the last byte seen was a CR ending a line
}

// Write implements io.Writer.
func (s *Splitter) Write(p []byte) (int, error) {
	n := len(p)
	max := s.max()
	for len(p) > 0 {
		if s.sawCR {
			s.sawCR = false
			if p[0] == '\n' { // second half of a CRLF
				p = p[1:]
				if len(s.pending) > 0 {
					s.pending = append(s.pending, '\n')
					s.lineStart = len(s.pending)
				}
				continue
			}
		}
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			s.pending = append(s.pending, p...)
			break
		}
		end := i + 1
		if p[i] == '\r' && i+1 < len(p) && p[i+1] == '\n' {
			end++
		} else if p[i] == '\r' && i+1 == len(p) {
			s.sawCR = true // a CRLF may be split across writes
		}
		blank := i == 0 && len(s.pending) == s.lineStart
		s.pending = append(s.pending, p[:end]...)
		p = p[end:]
		if blank && s.sawCR {
			s.pending = append(s.pending, '\n') // see the type's doc
		}
		if blank {
			if err := s.dispatch(); err != nil {
				return 0, err
			}
			continue
		}
		s.lineStart = len(s.pending)
	}
	if len(s.pending) > max {
		return 0, fmt.Errorf("%w (more than %d bytes)", ErrEventTooLarge, max)
	}
	return n, nil
}

// Flush hands an incomplete final event to OnEvent (a stream that ended
// without the blank line); clients discard such an event, so callers
// decide whether to forward it. It reports whether there was one.
func (s *Splitter) Flush() (bool, error) {
	if len(s.pending) == 0 {
		return false, nil
	}
	return true, s.dispatch()
}

func (s *Splitter) max() int {
	if s.Max <= 0 {
		return DefaultMaxEventBytes
	}
	return s.Max
}

func (s *Splitter) dispatch() error {
	raw := s.pending
	s.pending, s.lineStart = s.pending[:0], 0
	if onlyBlankLines(raw) {
		return nil // a stray blank line between events
	}
	if len(raw) > s.max() {
		return fmt.Errorf("%w (more than %d bytes)", ErrEventTooLarge, s.max())
	}
	return s.OnEvent(raw)
}

func onlyBlankLines(b []byte) bool {
	return len(bytes.Trim(b, "\r\n")) == 0
}

// ParseEvent reads the fields of one raw event (CRLF, LF or CR line ends; a
// leading BOM ignored; comments and unknown fields skipped; one space after
// the colon dropped).
func ParseEvent(raw []byte) Event {
	ev := Event{Raw: raw}
	var data [][]byte
	body := bytes.TrimPrefix(raw, utf8BOM)
	for len(body) > 0 {
		i := bytes.IndexAny(body, "\r\n")
		line := body
		if i >= 0 {
			line = body[:i]
			if body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n' {
				i++
			}
			body = body[i+1:]
		} else {
			body = nil
		}
		if len(line) == 0 {
			continue
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(name) {
		case "event":
			ev.Type = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.ID = string(value)
			}
		case "retry":
			ev.Retry = string(value)
		case "data":
			data = append(data, value)
			ev.HasData = true
		}
	}
	ev.Data = bytes.Join(data, []byte("\n"))
	return ev
}

// EncodeEvent renders an event with "\n" line ends: event, id and retry
// fields when set, then Data split into data lines at CR, LF and CRLF,
// then the blank line. An event with no data gets one empty data line when
// HasData is set and none otherwise.
func EncodeEvent(ev Event) []byte {
	b := make([]byte, 0, len(ev.Data)+32)
	if ev.Type != "" {
		b = append(append(append(b, "event: "...), ev.Type...), '\n')
	}
	if ev.ID != "" {
		b = append(append(append(b, "id: "...), ev.ID...), '\n')
	}
	if ev.Retry != "" {
		b = append(append(append(b, "retry: "...), ev.Retry...), '\n')
	}
	if ev.HasData || len(ev.Data) > 0 {
		data := ev.Data
		for {
			i := bytes.IndexAny(data, "\r\n")
			if i < 0 {
				b = append(append(append(b, "data: "...), data...), '\n')
				break
			}
			b = append(append(append(b, "data: "...), data[:i]...), '\n')
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			data = data[i+1:]
		}
	}
	return append(b, '\n')
}

// MessageEvent renders one JSON-RPC message as an SSE "message" event.
func MessageEvent(data []byte) []byte {
	return EncodeEvent(Event{Type: "message", Data: data, HasData: true})
}

// Reader reads complete events from a text/event-stream, pull-style, with
// the [Splitter] grammar.
type Reader struct {
	r       io.Reader
	split   Splitter
	queue   []Event
	buf     []byte
	err     error
	flushed bool
}

// NewReader reads events from r, each at most max bytes (default
// DefaultMaxEventBytes when max <= 0).
func NewReader(r io.Reader, max int) *Reader {
	rd := &Reader{r: r, buf: make([]byte, 8<<10)}
	rd.split = Splitter{Max: max, OnEvent: func(raw []byte) error {
		rd.queue = append(rd.queue, ParseEvent(bytes.Clone(raw)))
		return nil
	}}
	return rd
}

// Next returns the next complete event. At the end of the stream it
// returns io.EOF, or io.ErrUnexpectedEOF when an incomplete final event was
// discarded; a read error is returned as is, after the complete events
// read before it.
func (r *Reader) Next() (Event, error) {
	for len(r.queue) == 0 {
		if r.err != nil {
			return Event{}, r.err
		}
		n, err := r.r.Read(r.buf)
		if n > 0 {
			if _, werr := r.split.Write(r.buf[:n]); werr != nil {
				r.err = werr
				continue
			}
		}
		if err != nil {
			r.err = err
			if errors.Is(err, io.EOF) && len(r.split.pending) > 0 && !onlyBlankLines(r.split.pending) {
				r.err = io.ErrUnexpectedEOF
			}
		}
	}
	ev := r.queue[0]
	r.queue = r.queue[1:]
	return ev, nil
}
