package observe

import (
	"net/http"
)

// Handler is the front of a route as every layer behind it expects: it
// opens the record of each request on route (Start, with the client's
// address from clientIP, or "" when nil), sends its id as X-Request-Id,
// and closes it with the status answered when next returns (for a stream,
// when the stream ends). Mount it outermost, so that every refusal is
// recorded.
func (h *Hub) Handler(route string, clientIP func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := ""
		if clientIP != nil {
			ip = clientIP(r)
		}
		ctx, rec := h.Start(r.Context(), route, r, ip)
		w.Header().Set("X-Request-Id", rec.ID())
		sw := &statusWriter{ResponseWriter: w}
		defer func() { rec.Finish(ctx, sw.Status()) }()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// statusWriter remembers the status written; Unwrap lets
// http.ResponseController reach the connection (flushes, deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush forwards to the underlying writer.
func (w *statusWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls: it forwards to
// the underlying writer and returns its error (a client gone). Flushing
// before any Write sends the status line (200), as net/http does.
func (w *statusWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status written, 200 if only a body was, 0 if nothing was.
func (w *statusWriter) Status() int { return w.status }
