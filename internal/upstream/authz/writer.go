package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// errResponseTooLarge: a response that must be inspected exceeds the cap.
var errResponseTooLarge = fmt.Errorf("%w: it exceeds the size cap", errUnauthorizable)

type writerMode int

const (
	modeUndecided writerMode = iota
	modePass                 // forwarded unchanged
	modeBuffer               // JSON: held whole, checked at finish
	modeSSE                  // event stream: checked event by event
	modeFailed               // refused; nothing more is written
)

// filterWriter is the http.ResponseWriter handed to the upstream. It
// decides on the first WriteHeader or Write: text/event-stream is checked
// event by event with the [mcpwire.Splitter] grammar (Content-Length
// dropped); on POST anything else is buffered up to max, checked and
// written with a fresh Content-Length; on GET anything but an event stream
// passes through. A compressed body (Content-Encoding other than identity)
// cannot be inspected and is refused with 502.
//
// What cannot be authorized is never forwarded: a JSON answer becomes 502
// with a JSON-RPC internal error (-32603, "upstream response could not be
// authorized"). An event stream's headers are already sent, so instead
// every request of the POST not answered yet gets an error event with
// that code and message, the stream ends (the upstream's writes fail and
// its context is cancelled), and the rest of the upstream's answer is
// dropped; a GET stream just ends. A non-2xx answer whose body is not
// JSON-RPC at all (a transport error page, such as a plain-text 404 for
// an unknown session) passes unchanged: clients do not read responses out
// of it.
type filterWriter struct {
	w      http.ResponseWriter
	a      *answerFilter
	max    int
	post   bool
	order  []mcpwire.Key   // the POST's requests, in body order
	failID json.RawMessage // the id a JSON 502 answers (one request)
	cancel context.CancelFunc
	log    func(msg string, err error)
	// failed records the failure on the request's observe record (nil:
	// not recorded); detail is the message the client gets.
	failed func(detail string)

	mode   writerMode
	status int
	buf    bytes.Buffer
	split  *mcpwire.Splitter
	flush  func()
}

var (
	_ http.ResponseWriter = (*filterWriter)(nil)
	_ http.Flusher        = (*filterWriter)(nil)
)

// Header implements http.ResponseWriter.
func (f *filterWriter) Header() http.Header { return f.w.Header() }

// WriteHeader implements http.ResponseWriter.
func (f *filterWriter) WriteHeader(code int) {
	if f.mode != modeUndecided {
		return
	}
	if code >= 100 && code < 200 {
		f.w.WriteHeader(code)
		return
	}
	h := f.w.Header()
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	encoded := h.Get("Content-Encoding") != "" && h.Get("Content-Encoding") != "identity"
	switch {
	case ct != "text/event-stream" && !f.post:
		f.mode = modePass
		f.w.WriteHeader(code)
	case encoded:
		f.failJSON("upstream response is compressed", errUnauthorizable)
	case ct == "text/event-stream":
		f.mode = modeSSE
		f.split = &mcpwire.Splitter{Max: f.max, OnEvent: f.event}
		h.Del("Content-Length")
		f.w.WriteHeader(code)
	default:
		f.mode, f.status = modeBuffer, code
	}
}

// Write implements http.ResponseWriter.
func (f *filterWriter) Write(p []byte) (int, error) {
	if f.mode == modeUndecided {
		f.WriteHeader(http.StatusOK)
	}
	switch f.mode {
	case modePass:
		return f.w.Write(p)
	case modeSSE:
		n, err := f.split.Write(p)
		if err != nil && (errors.Is(err, errUnauthorizable) || errors.Is(err, mcpwire.ErrEventTooLarge)) {
			f.failStream(err)
		}
		return n, err
	case modeBuffer:
		if f.buf.Len()+len(p) > f.max {
			f.failJSON("upstream response too large to authorize", errResponseTooLarge)
			return 0, errResponseTooLarge
		}
		return f.buf.Write(p)
	}
	return 0, errUnauthorizable
}

// event checks one complete event and forwards it, unflushed (see Flush). An event is forwarded
// byte for byte only when it is unchanged and has no CR: clients split
// lines differently (the go-sdk client ends lines at LF only and trims
// field values, where the SSE grammar also ends them at a lone CR), and
// only an LF-only event reads the same to all of them. Any other event is
// re-encoded as [mcpwire.ParseEvent] read it ([mcpwire.EncodeEvent]:
// comments, unknown fields and a stream's opening BOM dropped; an event
// left with no field becomes a comment line).
func (f *filterWriter) event(raw []byte) error {
	out := raw
	ev := mcpwire.ParseEvent(raw)
	changed := false
	if ev.HasData {
		data, ch, err := f.a.filter(ev.Data)
		if err != nil {
			return err
		}
		ev.Data, changed = data, ch
	}
	if changed || bytes.IndexByte(raw, '\r') >= 0 {
		out = mcpwire.EncodeEvent(ev)
		if len(out) == 1 { // no field: keep the keep-alive a comment was
			out = []byte(":\n\n")
		}
	}
	_, err := f.w.Write(out)
	return err
}

// Flush implements http.Flusher; buffered JSON is flushed only at finish.
// An event stream is flushed when the upstream flushes, never after each
// event on the filter's own account: an upstream that writes several
// events (or an answer and then the end of its stream) before it flushes
// keeps them in one write to the client.
func (f *filterWriter) Flush() {
	if f.mode == modePass || f.mode == modeSSE || f.mode == modeUndecided && !f.post {
		f.flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (f *filterWriter) Unwrap() http.ResponseWriter { return f.w }

// finish writes what was held back once the upstream handler returned. An
// event stream's incomplete final event is dropped: clients discard it
// (HTML Living Standard §9.2.6), and so it is not inspected.
func (f *filterWriter) finish() {
	switch f.mode {
	case modeSSE:
		f.split.OnEvent = func([]byte) error { return nil }
		if tail, _ := f.split.Flush(); tail {
			f.log("upstream stream ended inside an event; the incomplete event was dropped", nil)
		}
	case modeBuffer:
		out, _, err := f.a.filter(f.buf.Bytes())
		switch {
		case errors.Is(err, errNotJSONRPC) && (f.status < 200 || f.status > 299):
			out = f.buf.Bytes()
		case err != nil:
			f.failJSON("upstream response could not be authorized", err)
			return
		}
		if f.status != http.StatusNoContent && f.status != http.StatusNotModified {
			f.w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		}
		f.w.WriteHeader(f.status)
		_, _ = f.w.Write(out)
	}
}

// failJSON answers 502 with a JSON-RPC error instead of the upstream's
// answer, which has not been sent.
func (f *filterWriter) failJSON(msg string, err error) {
	f.mode = modeFailed
	f.log(msg, err)
	f.recordFailure()
	f.cancel()
	mcpwire.WriteError(f.w, &mcpwire.Error{Status: http.StatusBadGateway, Code: mcpwire.CodeInternalError,
		ID: f.failID, Message: errUnauthorizable.Error()})
}

// failStream ends an event stream whose next event cannot be authorized:
// an error event for every request not answered yet, then nothing more.
func (f *filterWriter) failStream(err error) {
	f.mode = modeFailed
	f.log("upstream event could not be authorized; stream ended", err)
	f.recordFailure()
	f.cancel()
	if f.a.requests != nil {
		for _, id := range f.a.unanswered(f.order) {
			ev := mcpwire.MessageEvent(mcpwire.ErrorBody(id, mcpwire.CodeInternalError, errUnauthorizable.Error(), nil))
			if _, werr := f.w.Write(ev); werr != nil {
				return
			}
		}
	}
	f.flush()
}

// recordFailure records that the upstream's answer was not forwarded
// (observe.ReasonUpstream). The log line beside it is the operator's
// account of what the upstream sent; the record is the decision.
func (f *filterWriter) recordFailure() {
	if f.failed != nil {
		f.failed(errUnauthorizable.Error())
	}
}
