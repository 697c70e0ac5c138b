package mcpidentity

import (
	"fmt"
	"time"
)

// VerifierOption configures [NewHMACVerifier] and [NewJWSVerifier].
type VerifierOption func(*verifyConfig)

type verifyConfig struct {
	leeway  time.Duration
	maxAge  time.Duration
	now     func() time.Time
	replay  func(id string, expires time.Time) bool
	oldKeys [][]byte
}

func newVerifyConfig(opts []VerifierOption) verifyConfig {
	c := verifyConfig{leeway: DefaultLeeway, maxAge: DefaultMaxAge, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithLeeway sets the clock skew tolerated when checking Expires and Issued
// (default [DefaultLeeway]; negative values count as zero).
func WithLeeway(d time.Duration) VerifierOption {
	return func(c *verifyConfig) { c.leeway = max(d, 0) }
}

// WithMaxAge sets the replay window: identities issued longer ago than d
// (plus leeway) are refused with [ErrExpired] even if Expires is later
// (default [DefaultMaxAge]; values <= 0 keep the default).
func WithMaxAge(d time.Duration) VerifierOption {
	return func(c *verifyConfig) {
		if d > 0 {
			c.maxAge = d
		}
	}
}

// WithClock replaces time.Now (for tests).
func WithClock(now func() time.Time) VerifierOption {
	return func(c *verifyConfig) { c.now = now }
}

// WithReplayCheck makes the verifier refuse an identity whose nonce (HMAC
// mode) or jti (JWS mode) was seen before: firstUse is called only after
// the signature and times verified, with the ID and the time after which
// the verifier would refuse the identity anyway, so a store may forget it
// then. It must return false if id was already used. It is not called for
// invalid identities. Without it, a captured header set can be replayed to
// the same upstream within the window (see the package documentation).
func WithReplayCheck(firstUse func(id string, forgetAfter time.Time) bool) VerifierOption {
	return func(c *verifyConfig) { c.replay = firstUse }
}

// WithPreviousHMACKeys adds keys an HMAC verifier still accepts while a new
// key is rolled out to the gateway (ignored by JWS verifiers). Each must
// be at least [MinHMACKeyBytes] long; shorter ones are ignored.
func WithPreviousHMACKeys(keys ...[]byte) VerifierOption {
	return func(c *verifyConfig) {
		for _, k := range keys {
			if len(k) >= MinHMACKeyBytes {
				c.oldKeys = append(c.oldKeys, append([]byte(nil), k...))
			}
		}
	}
}

// checkTimes applies audience, expiry, issue time and max age, then the
// replay check; id's signature has already been verified.
func (c *verifyConfig) checkTimes(id *Identity, audience string) error {
	if id.Audience != audience {
		return fmt.Errorf("%w: audience %q is not this upstream's", ErrInvalid, id.Audience)
	}
	now := c.now()
	if id.Issued.After(now.Add(c.leeway)) {
		return fmt.Errorf("%w: issued in the future", ErrInvalid)
	}
	if now.After(id.Expires.Add(c.leeway)) {
		return fmt.Errorf("%w: expired at %s", ErrExpired, id.Expires.UTC().Format(time.RFC3339))
	}
	forget := id.Issued.Add(c.maxAge + c.leeway)
	if now.After(forget) {
		return fmt.Errorf("%w: issued more than %s ago", ErrExpired, c.maxAge)
	}
	if c.replay != nil {
		if exp := id.Expires.Add(c.leeway); exp.Before(forget) {
			forget = exp
		}
		if !c.replay(id.ID, forget) {
			return ErrReplayed
		}
	}
	return nil
}
