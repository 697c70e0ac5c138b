package dcr

// WriteGate is the caller's limit on the Cognito writes that a request
// without credentials causes: the CIMD bridge's authorization and token
// requests, which reach Cognito's app-client API (under an account-wide
// quota shared with registration) and, with a new metadata document, the
// MaxRegistrations ceiling. mcp-dcr's HTTP layer implements it with the
// per-source registration rate limiter (cimd.Throttle).
//
// [Service.RegisterCIMD] and [Service.UseRedirectURI] ask it once before
// each Cognito write they decide to make, after every check that could
// refuse the request or make the write unnecessary, so that a call which
// writes nothing never reaches it:
//   - creating a metadata-document client's app client (a document never
//     seen, once it passed the rules and the MaxRegistrations check);
//   - updating it for a changed document;
//   - adding a loopback callback URL (a new port);
//   - refreshing the recorded use of a listed one (at most once per port
//     and minute; see [CallbackInUseWindow]).
//
// Not asked again: the re-pushes that settle a concurrent change, the
// deletion that compensates a failed store write and the retries after a
// version conflict (all part of the write already allowed; a retry may
// find the write done by another request, which then cost a token for
// nothing). Never asked: store-only writes (renewing a registration's
// expiry) and everything registration (RFC 7591/7592) does.
//
// A nil error allows the write. A non-nil one refuses it: the Service
// returns that very error (errors.Is finds it), except for the refresh of
// a listed callback, which is skipped instead (the callback URL is listed,
// so the login works; its use is just not recorded). A nil WriteGate
// allows every write.
type WriteGate func() error

// allow asks g, allowing everything when g is nil.
func (g WriteGate) allow() error {
	if g == nil {
		return nil
	}
	return g()
}
