package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
)

// Defaults and limits of a Policy.
const (
	DefaultLeeway        = 60 * time.Second
	MaxLeeway            = 5 * time.Minute
	DefaultMaxTokenBytes = 16384
)

// Policy is what one protected resource accepts.
type Policy struct {
	// Issuer must equal the token's "iss" exactly (RFC 7519 §4.1.1; no
	// trailing-slash or case folding).
	Issuer string
	// Audiences are the accepted "aud" values (RFC 8707, RFC 9068 §4); at
	// least one is required. URL audiences compare by RFC 3986
	// normalization (scheme and host case, default port, one trailing
	// slash); others exactly. A token's aud must name one of them.
	Audiences []string
	// ClientIDs, when non-nil, must allow the token's client id for every
	// token, with or without aud. It is required for tokens without aud.
	ClientIDs ClientIDAllower
	// InsecureAllowMissingAudience accepts a token that has no "aud" at all
	// when the profile says the provider issues such tokens
	// (idp.Profile.MayOmitAudience: Cognito outside RFC 8707 resource
	// binding), the profile's token-type markers hold and ClientIDs allows
	// the token's client id. Such a token is not bound to this resource: any
	// allow-listed client's token for any API of the same issuer passes. A
	// token whose aud is present must still name one of Audiences. NewVerifier
	// refuses it for other profiles and without ClientIDs.
	InsecureAllowMissingAudience bool
	// Profile is the issuer's token shape (see package idp).
	Profile idp.Profile
	// Leeway is the clock skew allowed on exp, nbf and iat; zero means
	// DefaultLeeway (60s); at most MaxLeeway (5m).
	Leeway time.Duration
	// MaxTokenBytes caps the raw token before any parsing; zero means
	// DefaultMaxTokenBytes (16384).
	MaxTokenBytes int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// CacheTTL is how long a verified token is remembered (keyed by its
	// SHA-256), so a client repeating its token skips parsing and signature
	// verification; zero means DefaultCacheTTL (30s), negative disables the
	// cache. A cached token is still refused once exp + leeway has passed,
	// and its client id is re-checked against ClientIDs on every use; but a
	// token signed by a key the IdP has removed stays accepted for up to
	// CacheTTL after the removal.
	CacheTTL time.Duration
	// ScopeImplications is the scope hierarchy (scope_implies) that every
	// Principal this verifier returns carries, so that its MissingScopes
	// honours it everywhere a scope is checked; nil means exact comparison.
	// Verify itself requires no scope.
	ScopeImplications *ScopeImplications
}

// Verifier checks JWT access tokens against one Policy. It is safe for
// concurrent use.
type Verifier struct {
	keys      KeyLookup
	p         Policy
	audiences []audience
	typs      []string // Profile.TypHeaders lower-cased
	plan      *claimPlan
	facts     keyFactsCache
	cache     *tokenCache
}

// NewVerifier validates p, fills its defaults and returns a Verifier that
// takes keys only from keys.
func NewVerifier(keys KeyLookup, p Policy) (*Verifier, error) {
	var errs []error
	if keys == nil {
		errs = append(errs, errors.New("key lookup is nil"))
	}
	if p.Issuer == "" {
		errs = append(errs, errors.New("issuer is empty"))
	}
	if err := p.Profile.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(p.Audiences) == 0 {
		errs = append(errs, errors.New("no audiences"))
	}
	if p.InsecureAllowMissingAudience && !p.Profile.MayOmitAudience {
		errs = append(errs, fmt.Errorf("InsecureAllowMissingAudience: provider %q always puts aud in access tokens", p.Profile.Name))
	}
	if p.InsecureAllowMissingAudience && p.ClientIDs == nil {
		errs = append(errs, errors.New("InsecureAllowMissingAudience needs a client-id allowlist (ClientIDs)"))
	}
	v := &Verifier{keys: keys}
	for _, a := range p.Audiences {
		if a == "" {
			errs = append(errs, errors.New("empty audience"))
		}
		v.audiences = append(v.audiences, newAudience(a))
	}
	switch {
	case p.Leeway < 0 || p.Leeway > MaxLeeway:
		errs = append(errs, fmt.Errorf("leeway %v outside [0, %v]", p.Leeway, MaxLeeway))
	case p.Leeway == 0:
		p.Leeway = DefaultLeeway
	}
	switch {
	case p.MaxTokenBytes < 0:
		errs = append(errs, errors.New("negative MaxTokenBytes"))
	case p.MaxTokenBytes == 0:
		p.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.CacheTTL == 0 {
		p.CacheTTL = DefaultCacheTTL
	}
	v.cache = newTokenCache(p.CacheTTL)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("authn: invalid policy: %w", err)
	}
	v.p = p
	v.typs = lowerTyps(p.Profile.TypHeaders)
	v.plan = newClaimPlan(&v.p.Profile)
	return v, nil
}

// Verify checks raw as a JWT access token (RFC 9068 §4, RFC 8725 §3) and
// returns its Principal, which callers must treat as read-only (it may be
// shared through the verified-token cache, see Policy.CacheTTL). In order:
// size cap; JWS compact shape and header (parseHeader); key by kid from
// the key set only; alg/key fit (checkKey); signature (verifySignature);
// payload as one JSON object (claimPlan.parseClaims); token-type markers;
// iss exact; exp/nbf/iat with leeway; sub; client id; audience; client-id
// allowlist; scopes; username. Header and payload are each read in one
// pass into the fields these checks need; Principal.Claims decodes the
// full payload only when called.
//
// Errors wrap ErrInvalidToken, or ErrKeysUnavailable when keys or the
// client-id allowlist cannot be reached; FailureReason names which check
// refused the token, for metrics and audit logs. Verify does not check revocation,
// jti replay, sender constraints (DPoP/mTLS), or which scopes are required
// (see Principal.MissingScopes).
func (v *Verifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	if len(raw) > v.p.MaxTokenBytes {
		return nil, invalid(ReasonMalformed, "token too large")
	}
	p, ck, ok := v.cache.get(raw, v.p.Now())
	if ok {
		if v.p.ClientIDs != nil {
			if err := v.allowClient(ctx, p.ClientID); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	c, err := splitCompact(raw, v.typs)
	if err != nil {
		return nil, err
	}
	key, err := v.keys.LookupKey(ctx, c.header.kid)
	if err != nil {
		if errors.Is(err, ErrKeysUnavailable) {
			return nil, fmt.Errorf("authn: %w", err)
		}
		return nil, invalid(ReasonKey, "no key matches the token's kid")
	}
	facts := v.facts.get(key)
	if err := checkKey(facts, c.header.alg); err != nil {
		return nil, err
	}
	if err := verifySignature(&c, facts); err != nil {
		return nil, err
	}
	p, err = v.checkPayload(ctx, c.payload)
	if err != nil {
		return nil, err
	}
	token := raw // only a verified token's copy escapes, not every call's raw
	p.token = &token
	v.cache.put(ck, p, v.p.Now(), v.p.Leeway)
	return p, nil
}

// CacheStats returns the verified-token cache's hit and miss counts since
// the verifier was made (zero when Policy.CacheTTL disabled the cache).
func (v *Verifier) CacheStats() CacheStats { return v.cache.stats() }

// checkPayload reads the signature-verified payload as one JSON object in
// one pass (claimPlan.parseClaims; any problem is ReasonMalformed) and
// applies the policy to its claims.
func (v *Verifier) checkPayload(ctx context.Context, payload []byte) (*Principal, error) {
	var stack [maxStackSlots]jval
	vals := claimVals(stack[:0])
	if n := len(v.plan.names); n <= maxStackSlots {
		vals = stack[:n]
	} else {
		vals = make(claimVals, n)
	}
	if err := v.plan.parseClaims(payload, vals); err != nil {
		return nil, err
	}
	p, err := v.checkClaims(ctx, vals)
	if err != nil {
		return nil, err
	}
	p.payload = payload
	return p, nil
}

// checkClaims applies the policy to the claims of a signature-verified
// payload, in Verify's documented order.
func (v *Verifier) checkClaims(ctx context.Context, vals claimVals) (*Principal, error) {
	prof, plan := &v.p.Profile, v.plan
	if err := plan.checkMarkers(vals); err != nil {
		return nil, err
	}
	iss, _, err := plan.stringClaim(vals, plan.iss, ReasonIssuer)
	if err != nil {
		return nil, err
	}
	if string(iss) != v.p.Issuer {
		return nil, invalidClaim(ReasonIssuer, "iss", "does not match the issuer")
	}
	exp, iat, err := plan.checkTimes(vals, v.p.Now(), v.p.Leeway)
	if err != nil {
		return nil, err
	}
	subText, _, err := plan.stringClaim(vals, plan.sub, ReasonClaims)
	if err != nil {
		return nil, err
	}
	if len(subText) == 0 {
		return nil, invalidClaim(ReasonClaims, prof.Subject(), "is missing or empty")
	}
	sub := string(subText)
	clientID, err := plan.firstString(vals, plan.clientIDs, ReasonClient)
	if err != nil {
		return nil, err
	}
	if clientID == "" && prof.RequireClientID {
		return nil, invalid(ReasonClient, "client id claim is missing")
	}
	aud, audPresent, err := audienceClaim(vals[plan.aud])
	if err != nil {
		return nil, err
	}
	if audPresent && !v.audienceAccepted(aud) {
		return nil, invalidClaim(ReasonAudience, "aud", "does not name this resource")
	}
	// Absent aud: only when the policy opts in, for a profile whose
	// provider issues such tokens (its RequiredClaims markers held above),
	// and only with an allow-listed client id (checked below).
	if !audPresent && !(v.p.InsecureAllowMissingAudience && prof.MayOmitAudience && v.p.ClientIDs != nil) {
		return nil, invalidClaim(ReasonAudience, "aud", "is missing")
	}
	if v.p.ClientIDs != nil {
		if err := v.allowClient(ctx, clientID); err != nil {
			return nil, err
		}
	}
	scopes, err := plan.scopesOf(vals)
	if err != nil {
		return nil, err
	}
	username, err := plan.firstString(vals, plan.usernames, ReasonClaims)
	if err != nil {
		return nil, err
	}
	return &Principal{
		Subject: sub, ClientID: clientID, Username: username, Scopes: scopes,
		Issuer: v.p.Issuer, Audience: aud, Expiry: exp, IssuedAt: iat,
		ScopeImplications: v.p.ScopeImplications,
	}, nil
}

func (v *Verifier) audienceAccepted(aud []string) bool {
	for _, got := range aud {
		for _, a := range v.audiences {
			if a.matches(got) {
				return true
			}
		}
	}
	return false
}

func (v *Verifier) allowClient(ctx context.Context, clientID string) error {
	if clientID == "" {
		return invalid(ReasonClient, "client id claim is missing")
	}
	ok, err := v.p.ClientIDs.AllowClientID(ctx, clientID)
	if err != nil {
		return fmt.Errorf("%w: client-id allowlist: %w", ErrKeysUnavailable, err)
	}
	if !ok {
		return invalid(ReasonClient, "client id is not allowed")
	}
	return nil
}
