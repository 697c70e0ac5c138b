package cimd

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// writeGate adapts one request's [Throttle] to the dcr.WriteGate the
// Registrar asks before each Cognito write: every call spends one token
// of the request's source. A refusal is an RFC 6749 §4.1.2.1 503
// temporarily_unavailable saying when to retry; it is kept so that the
// bridge can tell it from the Registrar's own errors (it is redirected
// from /authorize, where the redirect URI is verified by then). A nil
// Throttle allows every write. Not safe for concurrent use (one request).
type writeGate struct {
	t       Throttle
	r       *http.Request
	refusal *bearer.Error
}

func newWriteGate(t Throttle, r *http.Request) *writeGate { return &writeGate{t: t, r: r} }

// gate is the dcr.WriteGate to pass to the Registrar.
func (g *writeGate) gate() dcr.WriteGate { return g.allow }

func (g *writeGate) allow() error {
	if g.t == nil {
		return nil
	}
	ok, wait := g.t.AllowWrite(g.r)
	if ok {
		return nil
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	g.refusal = &bearer.Error{Status: http.StatusServiceUnavailable, Code: codeUnavailable,
		Description: "too many requests from this source that change Cognito app clients (new or changed client " +
			"metadata documents, new loopback ports); retry after " + strconv.Itoa(secs) + "s"}
	return g.refusal
}

// refused reports whether err is (wraps) this gate's refusal.
func (g *writeGate) refused(err error) bool {
	return g.refusal != nil && errors.Is(err, g.refusal)
}
