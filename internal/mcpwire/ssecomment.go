package mcpwire

import (
	"bytes"
	"strings"
)

// EncodeComment renders an SSE comment: each line of text (split at CR, LF
// and CRLF) as a line starting with ":", then the blank line, e.g.
// ": keep-alive\n\n". Clients ignore comment lines (HTML Living Standard
// §9.2.6), and the blank line dispatches nothing since no data was
// buffered; intermediaries see bytes flowing, which is what a keep-alive
// is for. Written only at an event boundary (see [EventBoundary]), it
// cannot split an event.
func EncodeComment(text string) []byte {
	var b bytes.Buffer
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\r' || r == '\n' }) {
		b.WriteString(": ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		b.WriteString(":\n")
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// EventBoundary follows the bytes of a text/event-stream as they are
// written, with the [Splitter]'s line grammar (lines end in CRLF, LF or a
// lone CR, even when a CRLF is split across writes), and reports whether
// they end at an event boundary: at the start of the stream, or after the
// blank line that ends an event ("\n\n", "\r\n\r\n", "\r\r" and mixtures).
// Something inserted there, such as a comment, cannot change how a client
// splits the events around it. It holds three bits, never the bytes.
//
// Not checked: what the lines contain (fields, UTF-8, a BOM).
type EventBoundary struct {
	midLine  bool // bytes of a line without its line end yet
	midEvent bool // a non-blank line since the last blank line
	sawCR    bool // the last byte was a CR: a following LF completes it
}

// Write implements io.Writer; it never fails.
func (b *EventBoundary) Write(p []byte) (int, error) {
	for _, c := range p {
		if b.sawCR {
			b.sawCR = false
			if c == '\n' { // second half of a CRLF
				continue
			}
		}
		switch c {
		case '\r', '\n':
			b.midEvent = b.midLine // a blank line ends the event
			b.midLine = false
			b.sawCR = c == '\r'
		default:
			b.midLine = true
		}
	}
	return len(p), nil
}

// AtBoundary reports whether the bytes so far end at an event boundary.
func (b *EventBoundary) AtBoundary() bool { return !b.midLine && !b.midEvent }
