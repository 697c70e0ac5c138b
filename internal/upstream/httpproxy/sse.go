package httpproxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// defaultMaxEventBytes bounds one SSE event read from an upstream.
const defaultMaxEventBytes = 16 << 20

// errEventTooLarge is an upstream SSE event beyond the size cap.
var errEventTooLarge = errors.New("sse event too large")

// sseEvent is one complete server-sent event (HTML Living Standard
// §9.2.6 "Interpreting an event stream").
type sseEvent struct {
	raw  []byte // the event's lines with "\n" endings, then "\n"
	name string // event field; "" means "message"
	id   string
	data []byte // data lines joined by "\n"
}

// sseReader splits a text/event-stream into complete events. It accepts LF
// and CRLF line endings (raw is normalised to LF); lone CR endings, the BOM
// and field-value UTF-8 validity are not handled.
type sseReader struct {
	br  *bufio.Reader
	max int
}

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 8<<10), max: max}
}

// next returns the next complete event. At the end of the stream it returns
// io.EOF, or io.ErrUnexpectedEOF when a partial event was discarded.
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	var raw bytes.Buffer
	var data [][]byte
	for {
		line, err := s.line()
		if err != nil {
			if errors.Is(err, io.EOF) && raw.Len() > 0 {
				return sseEvent{}, io.ErrUnexpectedEOF
			}
			return sseEvent{}, err
		}
		if len(line) == 0 {
			if raw.Len() == 0 {
				continue // blank lines between events
			}
			raw.WriteByte('\n')
			ev.raw = raw.Bytes()
			ev.data = bytes.Join(data, []byte("\n"))
			return ev, nil
		}
		if raw.Len()+len(line)+2 > s.max {
			return sseEvent{}, fmt.Errorf("%w (more than %d bytes)", errEventTooLarge, s.max)
		}
		raw.Write(line)
		raw.WriteByte('\n')
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.name = string(value)
		case "id":
			ev.id = string(value)
		case "data":
			data = append(data, value)
		}
	}
}

// line reads one line without its ending, capped at max bytes.
func (s *sseReader) line() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := s.br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > s.max {
			return nil, fmt.Errorf("%w (line over %d bytes)", errEventTooLarge, s.max)
		}
		switch {
		case err == nil:
			buf = bytes.TrimSuffix(buf[:len(buf)-1], []byte("\r"))
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// encodeMessageEvent renders a JSON-RPC message as an SSE message event.
// data must not contain newlines (JSON from json.Marshal or compacted).
func encodeMessageEvent(data []byte) []byte {
	b := make([]byte, 0, len(data)+24)
	b = append(b, "event: message\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}
