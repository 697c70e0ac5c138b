package stdio

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
)

// Defaults of [Options].
const (
	DefaultMaxProcesses    = 16
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultRestartBackoff  = 500 * time.Millisecond
	MaxRestartBackoff      = 30 * time.Second
	DefaultStopTimeout     = 5 * time.Second
	DefaultResumeWindow    = 30 * time.Second
	DefaultMaxMessageBytes = 16 << 20

	DefaultMaxProcessesPerPrincipal = 4
	DefaultTimeout                  = 60 * time.Second
)

// stableRun is how long a process must have run for its exit to count as an
// isolated crash rather than one more failure in a row (see package doc).
const stableRun = 10 * time.Second

// Options configure [New].
type Options struct {
	// Command is the argv of the stdio MCP server; Command[0] is looked up
	// in PATH. No shell is involved.
	Command []string
	// Env is extra environment for the child. The child gets only PATH,
	// HOME and LANG from the gateway's environment plus these (and
	// Identity's), never the gateway's own settings or secrets.
	Env map[string]string
	// Dir is the child's working directory ("" = the gateway's).
	Dir string
	// MaxProcesses caps live processes, i.e. sessions (default 16). An
	// initialize beyond it ends an idle session to make room: the caller's
	// own least recently used one, else the least recently used one of the
	// principal holding the most sessions (more than the caller holds); if
	// none qualifies it gets 503 with a JSON-RPC error and Retry-After.
	MaxProcesses int
	// MaxProcessesPerPrincipal caps the sessions of one principal (issuer
	// and subject; default 4, at most MaxProcesses). An initialize beyond it
	// ends that principal's least recently used idle session (no HTTP
	// request of it in flight: a session pinged now and then is idle
	// between pings), or gets 429 with a JSON-RPC error and Retry-After if
	// all of them are busy.
	MaxProcessesPerPrincipal int
	// Timeout bounds each POST with requests until its answer starts, i.e.
	// until the child sent the first message for it (default 60s). Past
	// it the requests get a JSON-RPC error (HTTP 504 if nothing was sent
	// yet) and the child gets notifications/cancelled for them (not for
	// initialize, which the session then ends). A stream that has started
	// is never cut.
	Timeout time.Duration
	// IdleTimeout stops a session's process after this long without any
	// HTTP request of the session in flight (default 10m). An open GET
	// stream counts as a request in flight.
	IdleTimeout time.Duration
	// RestartBackoff is the first backoff after a process failure (default
	// 500ms); it doubles with each consecutive failure, up to 30s.
	RestartBackoff time.Duration
	// Identity, when set, tells the process of a session what it may know
	// of the principal that opened it: it is applied once per process, with
	// the initialize request's context, and its headers become environment
	// variables (identity.Env: MCP-Gateway-Subject -> MCP_GATEWAY_SUBJECT;
	// identity.ForStdio picks it from a route's identity mode). If it fails,
	// the initialize gets 500 and no process starts. nil: nothing.
	Identity identity.Injector
	// Logger receives the child's stderr line by line (lines cut at 4 KiB,
	// tagged with pid and session) and lifecycle events. Tag it with the
	// route (Logger.With("route", path)) before passing it. nil discards.
	Logger *slog.Logger
	// StopTimeout is how long a stopping child gets after SIGTERM before
	// SIGKILL (default 5s).
	StopTimeout time.Duration
	// ResumeWindow is how long a POST stream whose client disconnected is
	// kept for a Last-Event-ID resume before its unanswered requests are
	// cancelled at the child (default 30s; negative: cancel at once).
	ResumeWindow time.Duration
	// MaxMessageBytes caps one line the child writes on stdout (default
	// 16 MiB); a longer line is a protocol violation that stops the child.
	MaxMessageBytes int

	// now is the clock of restart backoffs (time.Now; tests inject one).
	now func() time.Time
	// afterFunc starts the idle and resume-window timers (time.AfterFunc;
	// tests inject one driven by a fake clock).
	afterFunc func(time.Duration, func()) timer
}

// timer is what the session keeps of a timer started by Options.afterFunc;
// *time.Timer implements it.
type timer interface {
	Stop() bool
}

// realAfterFunc is the default Options.afterFunc.
func realAfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

func (o *Options) applyDefaults() error {
	if len(o.Command) == 0 || o.Command[0] == "" {
		return errors.New("stdio: Options.Command is empty")
	}
	if o.MaxProcesses < 0 || o.MaxProcessesPerPrincipal < 0 || o.Timeout < 0 || o.IdleTimeout < 0 || o.RestartBackoff < 0 || o.StopTimeout < 0 || o.MaxMessageBytes < 0 {
		return errors.New("stdio: limits and durations in Options must not be negative (except ResumeWindow)")
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.MaxProcesses == 0 {
		o.MaxProcesses = DefaultMaxProcesses
	}
	if o.MaxProcessesPerPrincipal == 0 {
		o.MaxProcessesPerPrincipal = min(DefaultMaxProcessesPerPrincipal, o.MaxProcesses)
	}
	if o.MaxProcessesPerPrincipal > o.MaxProcesses {
		return errors.New("stdio: Options.MaxProcessesPerPrincipal is above MaxProcesses")
	}
	def(&o.Timeout, DefaultTimeout)
	def(&o.IdleTimeout, DefaultIdleTimeout)
	def(&o.RestartBackoff, DefaultRestartBackoff)
	def(&o.StopTimeout, DefaultStopTimeout)
	def(&o.ResumeWindow, DefaultResumeWindow)
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.afterFunc == nil {
		o.afterFunc = realAfterFunc
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}
