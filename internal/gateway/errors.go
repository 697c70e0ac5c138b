package gateway

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// JSON-RPC error codes used by the gateway's own (non-OAuth) refusals. The
// MCP transport spec lets a 403 for a bad Origin carry a JSON-RPC error
// with no id.
const (
	codeForbidden    = -32000
	codeInvalidReq   = -32600
	codeInternalErr  = -32603
	codeRequestLarge = -32001
)

// writeJSONRPCError is the one place the gateway writes a JSON-RPC error
// without an id (OAuth errors go through bearer.WriteError).
func writeJSONRPCError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"jsonrpc": "2.0",
		"id":      nil,
		"error":   map[string]any{"code": code, "message": msg},
	})
}

// httpError renders echo's routing errors (404, 405) and panics as JSON.
func (s *Server) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		msg = http.StatusText(status)
	} else {
		s.log.Error("handler error", "path", c.Request().URL.Path, "err", err)
	}
	code := codeInvalidReq
	if status >= 500 {
		code = codeInternalErr
	}
	writeJSONRPCError(c.Response(), status, code, msg)
}

// maxBody caps request bodies; readers past the cap get an error and the
// MCP handler answers 413.
func maxBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			writeJSONRPCError(w, http.StatusRequestEntityTooLarge, codeRequestLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// accessLog logs one line per request at debug level.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r := c.Request()
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", c.Response().Status), slog.Duration("took", time.Since(start)))
		return nil
	}
}
