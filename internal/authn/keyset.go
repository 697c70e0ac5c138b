package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/sync/singleflight"
)

// KeySetOptions configure issuer discovery and the JWKS cache.
type KeySetOptions struct {
	// Issuer is required; the discovered metadata "issuer" must equal it
	// exactly (OIDC Discovery 1.0 §4.3, RFC 8414 §3.3).
	Issuer string
	// DiscoveryURL is where metadata is read. Default: try
	// <issuer>/.well-known/openid-configuration, then the RFC 8414 §3.1
	// path-inserted <origin>/.well-known/oauth-authorization-server<path>.
	DiscoveryURL string
	// JWKSURI, if set, skips discovery entirely.
	JWKSURI string
	// HTTPClient is used for every fetch; default has a 10s timeout. Every
	// request also carries a context with a 10s deadline.
	HTTPClient *http.Client
	// MinRefreshInterval (default 10s) allows at most one on-demand JWKS
	// fetch per interval, triggered by an unknown kid (single-flight).
	MinRefreshInterval time.Duration
	// RefreshInterval (default 15m) is the periodic background refresh.
	RefreshInterval time.Duration
	// MaxResponseBytes (default 1 MiB) caps metadata and JWKS bodies.
	MaxResponseBytes int64
	// Logger receives refresh outcomes; default discards.
	Logger *slog.Logger
	// Now is the clock that paces refreshes (MinRefreshInterval); default
	// time.Now. Tests inject a fake clock here and in After.
	Now func() time.Time
	// After schedules the background refreshes and their retry backoff;
	// default time.After.
	After func(time.Duration) <-chan time.Time
}

// KeyLookup is what the Verifier needs from a key set. A key it returns
// must not be modified afterwards: a Verifier derives, once per key, what
// verification needs of it (type, curve, use, key_ops, alg, the crypto
// public key) and keeps that while the key is in use.
type KeyLookup interface {
	LookupKey(ctx context.Context, kid string) (jwk.Key, error)
}

var _ KeyLookup = (*KeySet)(nil)

// KeySet is a cache of the issuer's public signing keys (RFC 7517). It
// serves stale keys while the issuer is unreachable and refreshes on an
// unknown kid at most once per MinRefreshInterval. It does not validate
// x5c certificate chains and does not honor HTTP cache headers.
type KeySet struct {
	opts    KeySetOptions
	client  *http.Client
	log     *slog.Logger
	keys    atomic.Pointer[keySnapshot]
	fetches atomic.Int64
	started atomic.Bool
	sf      singleflight.Group
	// loads and failures count refresh outcomes (see FetchResults).
	loads, failures atomic.Int64

	mu        sync.Mutex
	jwksURI   string
	lastFetch time.Time // last JWKS fetch attempt, success or not
}

// DefaultMaxResponseBytes caps an issuer's metadata and JWKS documents
// when KeySetOptions.MaxResponseBytes is 0 (1 MiB).
const DefaultMaxResponseBytes = 1 << 20

// NewKeySet validates opts and returns a key set. It does not fetch
// anything (no network); call Start or let LookupKey load lazily.
func NewKeySet(opts KeySetOptions) (*KeySet, error) {
	u, err := url.Parse(opts.Issuer)
	if opts.Issuer == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("authn: issuer %q must be an absolute http(s) URL", opts.Issuer)
	}
	if opts.JWKSURI != "" {
		if err := checkEndpoint("jwks_uri", opts.JWKSURI, opts.Issuer); err != nil {
			return nil, fmt.Errorf("authn: %w", err)
		}
	}
	if opts.MinRefreshInterval < 0 || opts.RefreshInterval < 0 || opts.MaxResponseBytes < 0 {
		return nil, errors.New("authn: key set intervals and size limit must not be negative")
	}
	if opts.MinRefreshInterval == 0 {
		opts.MinRefreshInterval = 10 * time.Second
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = 15 * time.Minute
	}
	if opts.MaxResponseBytes == 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	k := &KeySet{opts: opts, client: opts.HTTPClient, log: opts.Logger, jwksURI: opts.JWKSURI}
	if k.client == nil {
		k.client = &http.Client{Timeout: 10 * time.Second}
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	return k, nil
}

// Start discovers the JWKS URI (if needed) and loads the keys, then
// refreshes in the background every RefreshInterval until ctx ends. It
// returns the first attempt's error; after an error the background loop
// retries with backoff from MinRefreshInterval up to RefreshInterval.
// Start may be called once.
func (k *KeySet) Start(ctx context.Context) error {
	if !k.started.CompareAndSwap(false, true) {
		return errors.New("authn: key set already started")
	}
	err := k.refresh(ctx, false)
	go k.loop(ctx, err == nil)
	return err
}

func (k *KeySet) loop(ctx context.Context, ok bool) {
	backoff := k.opts.MinRefreshInterval
	for {
		wait := k.opts.RefreshInterval
		if !ok {
			wait = backoff
			backoff = min(backoff*2, k.opts.RefreshInterval)
		}
		select {
		case <-ctx.Done():
			return
		case <-k.opts.After(wait):
		}
		ok = k.refresh(ctx, false) == nil
		if ok {
			backoff = k.opts.MinRefreshInterval
		}
	}
}

// Ready reports whether keys have been loaded at least once.
func (k *KeySet) Ready() bool { return k.keys.Load() != nil }

// JWKSURI returns the JWKS URL in use: the configured one, or the one
// discovered; "" before discovery succeeded.
func (k *KeySet) JWKSURI() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.jwksURI
}

// Fetches returns how many JWKS HTTP requests were made (not counting
// discovery), for tests and metrics.
func (k *KeySet) Fetches() int64 { return k.fetches.Load() }

// FetchResults counts refreshes (initial, periodic and on-demand; not
// those skipped by MinRefreshInterval) by outcome, for the
// mcpgw_jwks_fetches_total metric: ok replaced the cached keys; failed
// did not (discovery failed, the JWKS request failed, or the set had no
// usable key). The key set does not send conditional requests, so there
// is no "not modified" outcome.
func (k *KeySet) FetchResults() (ok, failed int64) { return k.loads.Load(), k.failures.Load() }

// Len returns the number of usable keys cached (0 before the first
// successful load).
func (k *KeySet) Len() int {
	if snap := k.keys.Load(); snap != nil {
		return len(snap.all)
	}
	return 0
}

// LoadedAt returns when the cached keys were fetched (by the Now clock),
// or the zero time before the first successful load.
func (k *KeySet) LoadedAt() time.Time {
	if snap := k.keys.Load(); snap != nil {
		return snap.loaded
	}
	return time.Time{}
}

// errRateLimited means an on-demand refresh was skipped.
var errRateLimited = errors.New("JWKS refresh rate-limited")

// LookupKey returns the public key for kid. An unknown kid triggers a
// refresh (single-flight, at most one per MinRefreshInterval); while the
// issuer is unreachable the cached keys keep being served. It returns an
// error wrapping ErrKeysUnavailable when no keys were ever loaded, and one
// wrapping ErrInvalidToken when keys are loaded but kid is not among them.
// An empty kid matches only a set holding exactly one key.
func (k *KeySet) LookupKey(ctx context.Context, kid string) (jwk.Key, error) {
	if snap := k.keys.Load(); snap != nil {
		if key, ok := snap.find(kid); ok {
			return key, nil
		}
	}
	err := k.refreshOnDemand(ctx)
	snap := k.keys.Load()
	if snap == nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if key, ok := snap.find(kid); ok {
		return key, nil
	}
	return nil, invalid(ReasonKey, "no key matches the token's kid")
}

// refreshOnDemand joins or starts one rate-limited refresh. The fetch runs
// detached from ctx (so one caller's cancellation does not fail the others)
// but ctx still bounds how long this caller waits.
func (k *KeySet) refreshOnDemand(ctx context.Context) error {
	ch := k.sf.DoChan("jwks", func() (any, error) {
		return nil, k.refresh(context.WithoutCancel(ctx), true)
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refresh discovers the JWKS URI if unknown and replaces the cached keys on
// success; on failure the cached keys stay (stale-if-error). With limited,
// it does nothing if a fetch was attempted within MinRefreshInterval.
func (k *KeySet) refresh(ctx context.Context, limited bool) error {
	k.mu.Lock()
	now := k.opts.Now()
	if limited && !k.lastFetch.IsZero() && now.Sub(k.lastFetch) < k.opts.MinRefreshInterval {
		k.mu.Unlock()
		return errRateLimited
	}
	k.lastFetch = now
	jwksURI := k.jwksURI
	k.mu.Unlock()

	if jwksURI == "" {
		var err error
		if jwksURI, err = k.discover(ctx); err != nil {
			k.log.Warn("authn: issuer discovery failed", "issuer", k.opts.Issuer, "error", err)
			k.failures.Add(1)
			return err
		}
		k.mu.Lock()
		k.jwksURI = jwksURI
		k.mu.Unlock()
	}
	k.fetches.Add(1)
	body, err := getJSON(ctx, k.client, jwksURI, k.opts.MaxResponseBytes)
	if err == nil {
		var snap *keySnapshot
		var skipped []string
		snap, skipped, err = parseJWKS(body)
		for _, s := range skipped {
			k.log.Debug("authn: JWKS key skipped", "jwks_uri", jwksURI, "reason", s)
		}
		if err == nil {
			snap.loaded = k.opts.Now()
			k.keys.Store(snap)
			k.loads.Add(1)
			k.log.Debug("authn: JWKS loaded", "jwks_uri", jwksURI, "keys", len(snap.all))
			return nil
		}
	}
	k.log.Warn("authn: JWKS refresh failed; serving cached keys", "jwks_uri", jwksURI, "cached", k.Ready(), "error", err)
	k.failures.Add(1)
	return fmt.Errorf("load JWKS: %w", err)
}
