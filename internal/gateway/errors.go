package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// httpError renders echo's routing errors (404, 405) and panics as JSON-RPC
// errors without an id (mcpwire.WriteError): -32600 below 500, -32603 from
// 500.
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
	code := mcpwire.CodeInvalidRequest
	if status >= 500 {
		code = mcpwire.CodeInternalError
	}
	mcpwire.WriteError(c.Response(), mcpwire.Errorf(status, code, nil, "%s", msg))
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
