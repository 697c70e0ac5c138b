package authz

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"strconv"
)

// errResponseTooLarge: a response that must be inspected exceeds the cap.
var errResponseTooLarge = errors.New("authz: upstream response exceeds the size cap")

type writerMode int

const (
	modeUndecided writerMode = iota
	modePass                 // forwarded unchanged
	modeBuffer               // JSON: held whole, filtered at finish
	modeSSE                  // event stream: filtered event by event
	modeFailed               // refused; nothing more is written
)

// filterWriter is the http.ResponseWriter handed to the upstream when its
// response may carry list results. It decides on the first WriteHeader or
// Write: text/event-stream is rewritten event by event (Content-Length
// dropped); on POST anything else is buffered up to max, filtered and
// written with a fresh Content-Length; on GET anything but an event stream
// passes through. A compressed body (Content-Encoding other than identity)
// cannot be inspected and is refused with 502.
type filterWriter struct {
	w      http.ResponseWriter
	l      *lister
	max    int
	buffer bool // POST: buffer non-SSE bodies
	log    func(msg string, err error)

	mode   writerMode
	status int
	buf    bytes.Buffer
	sse    *sseRewriter
	flush  func()
}

var (
	_ http.ResponseWriter = (*filterWriter)(nil)
	_ http.Flusher        = (*filterWriter)(nil)
)

func newFilterWriter(w http.ResponseWriter, l *lister, max int, buffer bool, log func(string, error)) *filterWriter {
	fw := &filterWriter{w: w, l: l, max: max, buffer: buffer, log: log}
	rc := http.NewResponseController(w)
	fw.flush = func() { _ = rc.Flush() }
	return fw
}

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
	case ct == "text/event-stream" || f.buffer:
		if encoded {
			f.fail("upstream response is compressed and cannot be authorized", nil)
			return
		}
		if ct == "text/event-stream" {
			f.mode = modeSSE
			f.sse = &sseRewriter{out: f.w, flush: f.flush, rewrite: f.l.filter, max: f.max}
			h.Del("Content-Length")
			f.w.WriteHeader(code)
			return
		}
		f.mode, f.status = modeBuffer, code
	default:
		f.mode = modePass
		f.w.WriteHeader(code)
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
		n, err := f.sse.Write(p)
		if errors.Is(err, errEventTooLarge) {
			f.mode = modeFailed
			f.log("upstream event too large to authorize; stream cut", err)
		}
		return n, err
	case modeBuffer:
		if f.buf.Len()+len(p) > f.max {
			f.fail("upstream response too large to authorize", errResponseTooLarge)
			return 0, errResponseTooLarge
		}
		return f.buf.Write(p)
	}
	return 0, errResponseTooLarge
}

// Flush implements http.Flusher; buffered JSON is flushed only at finish.
func (f *filterWriter) Flush() {
	if f.mode == modePass || f.mode == modeSSE || f.mode == modeUndecided && !f.buffer {
		f.flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (f *filterWriter) Unwrap() http.ResponseWriter { return f.w }

// finish writes what was held back once the upstream handler returned.
func (f *filterWriter) finish() {
	switch f.mode {
	case modeSSE:
		if err := f.sse.Close(); err != nil {
			f.log("writing the last event", err)
		}
	case modeBuffer:
		out, _ := f.l.filter(f.buf.Bytes())
		if f.status != http.StatusNoContent && f.status != http.StatusNotModified {
			f.w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		}
		f.w.WriteHeader(f.status)
		_, _ = f.w.Write(out)
	}
}

func (f *filterWriter) fail(msg string, err error) {
	f.mode = modeFailed
	f.log(msg, err)
	writeRPCError(f.w, &rpcError{status: http.StatusBadGateway, code: codeInternalError, msg: msg})
}
