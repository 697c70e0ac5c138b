package stdio

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// upstreamPhase starts observe.PhaseUpstream for one POST body written to
// the child. It returns line with the phase's W3C trace context in the
// params._meta of each request (mcpwire.SetTraceMeta; line unchanged when
// tracing is off), the writer to answer the client through, which ends the
// phase when the answer starts (the first event, the 202, or an error
// status: those of 500 and above end it failed), and a func that ends the
// phase if nothing was answered (the client left first); call it when the
// POST is done.
func upstreamPhase(w http.ResponseWriter, r *http.Request, line []byte) ([]byte, http.ResponseWriter, func()) {
	ctx, end := observe.StartPhase(r.Context(), observe.PhaseUpstream)
	parent, state := observe.TraceContext(ctx)
	pw := &phaseWriter{ResponseWriter: w, end: end}
	return mcpwire.SetTraceMeta(line, parent, state), pw, func() { pw.finish(context.Cause(r.Context())) }
}

// phaseWriter ends the upstream phase at the first header or byte written.
type phaseWriter struct {
	http.ResponseWriter
	end  func(error)
	once sync.Once
}

func (w *phaseWriter) finish(err error) { w.once.Do(func() { w.end(err) }) }

// WriteHeader ends the phase (failed for a status of 500 and above).
func (w *phaseWriter) WriteHeader(code int) {
	var err error
	if code >= http.StatusInternalServerError {
		err = errors.New("stdio upstream: answered " + strconv.Itoa(code))
	}
	w.finish(err)
	w.ResponseWriter.WriteHeader(code)
}

// Write ends the phase (a write without a header is a 200).
func (w *phaseWriter) Write(b []byte) (int, error) {
	w.finish(nil)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes).
func (w *phaseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
