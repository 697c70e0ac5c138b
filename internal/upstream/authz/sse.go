package authz

import (
	"bytes"
	"errors"
	"io"
)

// errEventTooLarge stops a stream whose event exceeds the cap: it cannot be
// inspected, so it is not forwarded.
var errEventTooLarge = errors.New("authz: server-sent event exceeds the size cap")

// utf8BOM may open an event stream; clients ignore it (HTML "Server-sent
// events", §9.2.5 parsing an event stream).
var utf8BOM = []byte("\xEF\xBB\xBF")

// sseRewriter parses a text/event-stream as it is written and forwards it
// event by event: each complete event (ended by a blank line) is written
// and flushed at once; an event whose data rewrite changes is
// re-serialised (its other fields kept in order, data as one line, "\n"
// line ends), every other event is forwarded byte for byte. Line ends are
// CRLF, LF or CR, as the SSE grammar allows. Events of every type are
// inspected, not only "message". Only the incomplete tail of the stream
// is held, at most max bytes.
type sseRewriter struct {
	out     io.Writer
	flush   func()
	rewrite func(data []byte) ([]byte, bool)
	max     int

	pending   []byte // raw bytes of the incomplete event
	lineStart int    // where the current line starts in pending
	sawCR     bool   // the last byte seen ended a line with CR
	started   bool   // the first event was dispatched
}

// Write implements io.Writer.
func (s *sseRewriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if s.sawCR {
			s.sawCR = false
			if p[0] == '\n' { // second half of CRLF
				p = p[1:]
				if len(s.pending) == 0 {
					if _, err := s.out.Write([]byte{'\n'}); err != nil {
						return 0, err
					}
					continue
				}
				s.pending = append(s.pending, '\n')
				s.lineStart = len(s.pending)
				continue
			}
		}
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			s.pending = append(s.pending, p...)
			break
		}
		s.pending = append(s.pending, p[:i+1]...)
		s.sawCR = p[i] == '\r'
		p = p[i+1:]
		if len(s.pending)-1 == s.lineStart { // blank line: event complete
			if err := s.dispatch(); err != nil {
				return 0, err
			}
			continue
		}
		s.lineStart = len(s.pending)
	}
	if len(s.pending) > s.max {
		return 0, errEventTooLarge
	}
	return n, nil
}

// Close forwards an incomplete final event the same way as a complete one
// (clients discard it, but a lenient one might not), without adding a
// terminator.
func (s *sseRewriter) Close() error {
	if len(s.pending) == 0 {
		return nil
	}
	return s.dispatch()
}

func (s *sseRewriter) dispatch() error {
	raw := s.pending
	s.pending, s.lineStart = nil, 0
	var bom []byte
	if !s.started && bytes.HasPrefix(raw, utf8BOM) {
		bom, raw = utf8BOM, raw[len(utf8BOM):]
	}
	s.started = true
	out := raw
	if ev, ok := s.rewriteEvent(raw); ok {
		out = ev
	}
	if bom != nil {
		out = append(append(make([]byte, 0, len(bom)+len(out)), bom...), out...)
	}
	if _, err := s.out.Write(out); err != nil {
		return err
	}
	s.flush()
	return nil
}

// rewriteEvent returns the re-serialised event when its data changes.
func (s *sseRewriter) rewriteEvent(raw []byte) ([]byte, bool) {
	lines := splitLines(raw)
	var data [][]byte
	hasData := false
	for _, l := range lines {
		if name, value := field(l); name == "data" {
			data, hasData = append(data, value), true
		}
	}
	if !hasData {
		return nil, false
	}
	newData, changed := s.rewrite(bytes.Join(data, []byte("\n")))
	if !changed {
		return nil, false
	}
	var b bytes.Buffer
	wrote := false
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		if name, _ := field(l); name == "data" {
			if !wrote {
				b.WriteString("data: ")
				b.Write(newData)
				b.WriteByte('\n')
				wrote = true
			}
			continue
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes(), true
}

// splitLines splits on CRLF, LF and CR.
func splitLines(raw []byte) [][]byte {
	var lines [][]byte
	for len(raw) > 0 {
		i := bytes.IndexAny(raw, "\r\n")
		if i < 0 {
			return append(lines, raw)
		}
		lines = append(lines, raw[:i])
		if raw[i] == '\r' && i+1 < len(raw) && raw[i+1] == '\n' {
			i++
		}
		raw = raw[i+1:]
	}
	return lines
}

// field splits an SSE line into field name and value ("name: value", one
// leading space dropped; a line without a colon is a name with an empty
// value; a comment has the name "").
func field(line []byte) (string, []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return string(line), nil
	}
	v := line[i+1:]
	if len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	return string(line[:i]), v
}
