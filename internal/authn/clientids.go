package authn

import "context"

// ClientIDAllower decides whether an OAuth client id is accepted. When a
// Policy has one, every token's client id must be allowed; it is also what
// lets a Cognito token without "aud" through. A later feature backs it with
// the registration service's DynamoDB table (dcr.ClientAllowlist). An error means the allowlist
// could not be consulted (Verify then wraps ErrKeysUnavailable), not that
// the client is unknown.
type ClientIDAllower interface {
	AllowClientID(ctx context.Context, clientID string) (bool, error)
}

// StaticClientIDs is a ClientIDAllower over a fixed list; comparison is
// exact and case-sensitive. An empty list allows nothing.
type StaticClientIDs []string

var _ ClientIDAllower = StaticClientIDs(nil)

// AllowClientID reports whether clientID is in the list. It never errors.
func (s StaticClientIDs) AllowClientID(_ context.Context, clientID string) (bool, error) {
	if clientID == "" {
		return false, nil
	}
	for _, id := range s {
		if id == clientID {
			return true, nil
		}
	}
	return false, nil
}

// AnyClientIDs allows a client id if any of its members does, asking them
// in order and stopping at the first yes. If none says yes and one failed,
// the failure is returned (fail closed: the verifier answers 503, not 401).
type AnyClientIDs []ClientIDAllower

var _ ClientIDAllower = AnyClientIDs(nil)

// AllowClientID implements ClientIDAllower.
func (a AnyClientIDs) AllowClientID(ctx context.Context, clientID string) (bool, error) {
	var firstErr error
	for _, m := range a {
		ok, err := m.AllowClientID(ctx, clientID)
		if ok && err == nil {
			return true, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return false, firstErr
}
