package identity

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

var _ Injector = Unsigned{}

// Unsigned tells the upstream the caller's subject, client id, issuer and
// scopes (space-separated) as plain MCP-Gateway-* headers: no signature, no
// audience, no expiry. It is for a channel nobody but the gateway writes
// to, the environment of a stdio process the gateway starts for one
// session (see [Env] and [ForStdio]); never for an HTTP upstream, which
// cannot tell these headers from forged ones (use [Signed] there). The
// client id header is set even when empty.
type Unsigned struct{}

// Apply implements [Injector]. Without a principal it removes identity
// headers and returns [ErrNoPrincipal]; a value holding an ASCII control
// character (which neither a header nor an environment variable carries
// unchanged) is refused with an error wrapping mcpidentity.ErrUnencodable.
func (Unsigned) Apply(_ context.Context, h http.Header, p *authn.Principal) error {
	mcpidentity.StripHeaders(h)
	if p == nil {
		return ErrNoPrincipal
	}
	vals := [][2]string{
		{mcpidentity.HeaderSubject, p.Subject},
		{mcpidentity.HeaderClientID, p.ClientID},
		{mcpidentity.HeaderIssuer, p.Issuer},
		{mcpidentity.HeaderScopes, strings.Join(p.Scopes, " ")},
	}
	for _, kv := range vals {
		if strings.ContainsFunc(kv[1], func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("%w: %s contains a control character", mcpidentity.ErrUnencodable, kv[0])
		}
	}
	for _, kv := range vals {
		h.Set(kv[0], kv[1])
	}
	return nil
}

// ForStdio returns the injector of a stdio route with identity mode: [None]
// for "none" (or ""), else [Unsigned]. A stdio process runs for one session
// of one user and reads its identity from its own environment, which no
// client can write to: a pipe to a child needs no signature, and a
// signature's five-minute lifetime would not fit a process that lives as
// long as its session. The mode's key or credential is not used.
func ForStdio(mode string) Injector {
	if mode == "" || mode == ModeNone {
		return None{}
	}
	return Unsigned{}
}

// Env returns what inj tells an upstream about p as environment variables,
// for a stdio process, which has no request headers: inj is applied to an
// empty header set and each header becomes a variable whose name is the
// header name in upper case with '-' replaced by '_' (MCP-Gateway-Subject
// becomes MCP_GATEWAY_SUBJECT); several values of one header are joined
// with ", " (RFC 9110 §5.3). ctx is passed to inj. It refuses a value with
// a NUL byte, which an environment cannot carry; it does not filter names:
// the injector chooses them (Static's credential would become
// AUTHORIZATION).
func Env(ctx context.Context, inj Injector, p *authn.Principal) (map[string]string, error) {
	h := http.Header{}
	if err := inj.Apply(ctx, h, p); err != nil {
		return nil, fmt.Errorf("identity for upstream: %w", err)
	}
	env := make(map[string]string, len(h))
	for name, vals := range h {
		v := strings.Join(vals, ", ")
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("identity for upstream: %s contains a NUL byte", name)
		}
		env[strings.ToUpper(strings.ReplaceAll(name, "-", "_"))] = v
	}
	return env, nil
}
