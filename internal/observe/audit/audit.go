// Package audit is the gateway's audit trail: an observe.Observer that
// writes one JSON line (log/slog's JSONHandler) per tool, resource or
// prompt use and per refusal or failure, answering "who called which tool,
// when, and was it allowed".
//
// The schema is stable (README "Audit log"): the keys below, in this
// order, snake_case, empty ones omitted. A line is written from the
// observe.Event only, which carries no token, secret or raw claim: the
// caller appears as the verified subject, client id and issuer, and only
// after verification succeeded. What is NOT done here: no buffering or
// rotation (use logrotate with copytruncate, or the platform's log
// collector), no signing or hash chaining of lines, and a failed write is
// dropped rather than failing the request.
package audit

import (
	"context"
	"io"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// Message is the "msg" of every audit line, so that audit lines can be
// told apart from operational logs on a shared stream.
const Message = "mcp.audit"

// MaxFieldBytes caps each string field. Method and name come from the
// client's body and may be as large as max_body_bytes; longer values are
// cut at a UTF-8 boundary and end in "…", so a line stays one bounded
// write.
const MaxFieldBytes = 1024

// timeFormat is RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Logger writes the audit trail. It is safe for concurrent use: slog's
// JSONHandler formats a whole line and hands it to the writer in one
// Write call under its lock, so lines never interleave (a file opened
// with O_APPEND also keeps concurrent processes' lines whole).
type Logger struct {
	h slog.Handler
}

var _ observe.Observer = (*Logger)(nil)

// New returns a Logger writing JSON lines to w.
func New(w io.Writer) *Logger {
	return &Logger{h: slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: replaceBuiltins})}
}

// Audited reports whether e gets an audit line: a use of a tool, resource,
// prompt or completion (tools/call, resources/read, resources/subscribe,
// prompts/get, completion/complete), whatever was decided, and every event
// whose decision is not allow (every refusal and failure, whatever the
// method, including GET and DELETE). Allowed pings, lists, initialize and
// notifications are not audited (the metrics count them).
func Audited(e *observe.Event) bool {
	if e.Decision != observe.DecisionAllow {
		return true
	}
	switch e.Method {
	case "tools/call", "resources/read", "resources/subscribe", "prompts/get", "completion/complete":
		return true
	}
	return false
}

// Observe writes e's line when [Audited] says so. The line's time is
// when the request arrived (e.Time).
func (l *Logger) Observe(ctx context.Context, e *observe.Event) {
	if !Audited(e) {
		return
	}
	r := slog.NewRecord(e.Time, slog.LevelInfo, Message, 0)
	r.AddAttrs(attrs(e)...)
	_ = l.h.Handle(ctx, r)
}

// attrs are e's fields after "time" and "msg", in schema order, empty
// ones left out: request_id, route, http_method, method, name, batch,
// subject, client_id, issuer, remote_ip, decision, reason, detail,
// status, latency_ms, upstream_status, upstream_latency_ms,
// upstream_error, trace_id. latency_ms is always present.
func attrs(e *observe.Event) []slog.Attr {
	a := make([]slog.Attr, 0, 20)
	str := func(k, v string) {
		if v != "" {
			a = append(a, slog.String(k, truncate(v)))
		}
	}
	num := func(k string, v int) {
		if v != 0 {
			a = append(a, slog.Int(k, v))
		}
	}
	str("request_id", e.RequestID)
	str("route", e.Route)
	str("http_method", e.HTTPMethod)
	str("method", e.Method)
	str("name", e.Name)
	if e.Batch > 1 {
		a = append(a, slog.Int("batch", e.Batch))
	}
	str("subject", e.Subject)
	str("client_id", e.ClientID)
	str("issuer", e.Issuer)
	str("remote_ip", e.RemoteIP)
	str("decision", string(e.Decision))
	str("reason", string(e.Reason))
	str("detail", e.Detail)
	num("status", e.Status)
	a = append(a, slog.Float64("latency_ms", millis(e.Latency)))
	num("upstream_status", e.UpstreamStatus)
	if e.UpstreamLatency > 0 {
		a = append(a, slog.Float64("upstream_latency_ms", millis(e.UpstreamLatency)))
	}
	str("upstream_error", e.UpstreamError)
	str("trace_id", e.TraceID)
	return a
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

// replaceBuiltins formats the time as RFC 3339 UTC with milliseconds and
// drops the level (every audit line is the same kind).
func replaceBuiltins(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		if a.Value.Kind() == slog.KindTime {
			return slog.String(slog.TimeKey, a.Value.Time().UTC().Format(timeFormat))
		}
	case slog.LevelKey:
		return slog.Attr{}
	}
	return a
}

// truncate cuts s to MaxFieldBytes at a rune boundary.
func truncate(s string) string {
	if len(s) <= MaxFieldBytes {
		return s
	}
	i := MaxFieldBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
