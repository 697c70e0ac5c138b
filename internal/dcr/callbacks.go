package dcr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Bounds of the callback bookkeeping (this project's choices).
const (
	// callbackTouchInterval is how stale a listed callback's UsedAt may be
	// before a use writes it again: uses within it cost no write at all.
	callbackTouchInterval = time.Minute
	// maxCallbackAttempts bounds the optimistic-concurrency attempts of
	// UseRedirectURI: every conflict means another use was stored, so with
	// at most this many concurrent uses of new ports for one client none
	// runs out. maxSettleRounds bounds the re-pushes of settle.
	maxCallbackAttempts = 10
	maxSettleRounds     = 5
	// CallbackInUseWindow is how long after its last recorded use a
	// port-specific loopback callback is never evicted: a login that
	// started with it may still be in progress (the user at Cognito's
	// managed login, then the authorization code on its way to /token),
	// and removing its callback URL from the app client would make that
	// login fail. Ten minutes is the longest authorization code lifetime
	// RFC 6749 §4.1.2 recommends; a login takes less. Uses are recorded to
	// within callbackTouchInterval, so a recorded use is protected for at
	// least nine minutes.
	//
	// The window runs from the last use, not from when the callback was
	// added, because what it protects is a login, and a login starts with
	// a use: a client that keeps its port (a fixed port, or one reused
	// across logins) starts logins long after the port was added, and a
	// window from the add time would let new ports (anyone's: a metadata
	// document's app client is shared by all its users) evict its callback
	// mid-login. Keying it to the add time would not make slots dearer to
	// hold either: an entry that a use cannot keep young has to be
	// replaced by a new port, one Cognito write per slot and window, just
	// what refreshing a use costs. What bounds holding slots is that every
	// such write, a refresh included, goes through the caller's
	// [WriteGate]: a use the gate refuses still works (the URL is listed)
	// but is not recorded, so it does not extend the protection. Someone
	// within their limit can still keep up to LoopbackCallbackLimit slots
	// young (one write per slot every nine minutes or so); raising
	// LoopbackCallbackLimit or lowering the caller's rate are the
	// operator's answers.
	CallbackInUseWindow = 10 * time.Minute
)

// Lookup returns the stored registration of the Cognito app client id
// clientID, expired or not (its app client exists until gc removes it), or
// nil when the store has none: a client this service did not register
// (for example an operator's pre-registered one) or an id that is not a
// Cognito client id at all (over-long ids are not looked up). The error
// is for store failures only.
func (s *Service) Lookup(ctx context.Context, clientID string) (*Registration, error) {
	if clientID == "" || len(clientID) > maxClientIDLen {
		return nil, nil
	}
	reg, err := s.store.Get(ctx, clientID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, serverError("could not read the registration", fmt.Errorf("get registration %q: %w", clientID, err))
	}
	return reg, nil
}

// UseRedirectURI makes the app client of reg accept the authorization
// request's redirect_uri uri before the client is sent to Cognito, which
// compares callback URLs byte for byte. A URI registered exactly needs
// nothing. A URI that matches a registered portless loopback URI on
// another port (RFC 8252 §7.3, [oauthmeta.RedirectURIListed]) is added to
// reg.LoopbackCallbacks and to the app client's callback URLs, after the
// registered ones; when more than the policy's LoopbackCallbackLimit (and
// never more than Cognito's 100 callback URLs in all) would be listed, the
// least recently used ones are evicted, but never one used within
// [CallbackInUseWindow] (a login in progress): when the slot a new URI
// needs is that young, the URI is refused with 503 temporarily_unavailable
// (retry once the oldest use is older). A listed one that was used more
// than a minute ago has its use time refreshed and the app client written
// again (which also repairs an earlier push that failed).
//
// gate is asked (see [WriteGate]) once, before the first write, and only
// when there is one to make: not for a registered URI, a listed one used
// within the last minute, or a new one refused because every slot is in
// use. When it refuses a new URI, nothing is written and its error is
// returned; when it refuses the refresh of a listed one, the refresh is
// skipped and reg returned as if it had been made (the callback URL is
// listed, so the login works; its use is not recorded, and does not extend
// its protection).
//
// Concurrency: the record is the single source of truth and changes only
// by optimistic versioned writes (retried from a fresh read on conflict),
// so concurrent uses never lose each other's URIs. Cognito has no
// conditional update, so after every push the record is read again and,
// while it describes another app client than the one just pushed, the
// newest state is pushed (settle): whichever push lands last, its writer
// then sees the newest record and the app client converges to it. What is
// NOT guaranteed: that a concurrent writer's older push cannot land in the
// moment between another's newer push and its own correction (one
// Cognito round trip), during which a just-added URI may be missing and
// a login reaching Cognito then fails (a retry succeeds).
//
// Errors: 400 invalid_request when uri is not registered at all or the
// registered URIs leave no room under Cognito's limit; 503
// temporarily_unavailable when every slot is held by a login in progress;
// gate's error; 409 when the record kept changing; store and Cognito
// failures as server errors.
func (s *Service) UseRedirectURI(ctx context.Context, reg *Registration, uri string, gate WriteGate) (*Registration, error) {
	if slices.Contains(reg.Metadata.RedirectURIs, uri) {
		return reg, nil
	}
	if !oauthmeta.RedirectURIListed(reg.Metadata.RedirectURIs, uri) {
		return nil, errInvalidRequest("redirect_uri is not registered for this client")
	}
	if _, err := parseRedirect(uri, nil); err != nil {
		return nil, errInvalidRequest(fmt.Sprintf("redirect_uri %s: %v", quoteShort(uri), err))
	}
	limit := s.callbackLimit(reg.Metadata)
	if limit < 1 {
		return nil, errInvalidRequest(fmt.Sprintf("the client registers %d redirect URIs, which leaves no room under Cognito's limit of %d callback URLs for this port; register it explicitly", len(reg.Metadata.RedirectURIs), maxRedirectURIs))
	}
	cur, allowed := reg, false
	for range maxCallbackAttempts {
		now := s.now().UTC()
		i := slices.IndexFunc(cur.LoopbackCallbacks, func(c LoopbackCallback) bool { return c.URI == uri })
		if i >= 0 && now.Sub(cur.LoopbackCallbacks[i].UsedAt) < callbackTouchInterval {
			return cur, nil
		}
		list, wait := useCallback(cur.LoopbackCallbacks, uri, now, limit)
		if list == nil {
			s.log.Warn("dcr: loopback callback refused: every slot is in use by a recent login",
				"client_id", cur.ClientID, "redirect_uri", uri, "loopback_callbacks", len(cur.LoopbackCallbacks))
			return nil, errCallbacksInUse(limit, wait)
		}
		if !allowed {
			if err := gate.allow(); err != nil {
				if i >= 0 {
					s.log.Info("dcr: loopback callback use not recorded: the caller's write limit refused it",
						"client_id", cur.ClientID, "redirect_uri", uri)
					return cur, nil
				}
				s.log.Warn("dcr: loopback callback not listed: the caller's write limit refused it",
					"client_id", cur.ClientID, "redirect_uri", uri)
				return nil, err
			}
			allowed = true
		}
		next := *cur
		next.LoopbackCallbacks = list
		next.Version = cur.Version + 1
		err := s.store.Update(ctx, next)
		if errors.Is(err, ErrConflict) {
			if cur, err = s.store.Get(ctx, reg.ClientID); err != nil {
				return nil, serverError("could not read the registration", fmt.Errorf("get registration %s: %w", reg.ClientID, err))
			}
			continue
		}
		if err != nil {
			return nil, serverError("could not store the registration", fmt.Errorf("update registration %s: %w", reg.ClientID, err))
		}
		if err := s.push(ctx, &next); err != nil {
			return nil, err
		}
		s.log.Info("dcr: loopback callback listed", "client_id", next.ClientID, "redirect_uri", uri,
			"loopback_callbacks", len(next.LoopbackCallbacks))
		return &next, nil
	}
	return nil, errConcurrentUpdate()
}

// callbackLimit is how many port-specific loopback callbacks an app client
// with metadata md may keep: the policy's limit, within Cognito's 100
// callback URLs in all.
func (s *Service) callbackLimit(md ClientMetadata) int {
	return min(s.rules.LoopbackCallbackLimit, maxRedirectURIs-len(md.RedirectURIs))
}

// ListsCallback reports whether the app client of r already accepts uri
// as a callback URL: one of the registered redirect URIs, or a
// port-specific loopback callback added earlier. For any other admitted
// uri, [Service.UseRedirectURI] adds a callback URL (a Cognito write).
// It judges r as read; a concurrent use may have listed uri since.
func (r *Registration) ListsCallback(uri string) bool {
	return slices.Contains(r.Metadata.RedirectURIs, uri) ||
		slices.ContainsFunc(r.LoopbackCallbacks, func(c LoopbackCallback) bool { return c.URI == uri })
}

// useCallback returns list with uri marked used at now and moved to the end
// (the list is kept oldest use first), then cut to the limit newest,
// evicting only entries used at least CallbackInUseWindow before now. When
// uri is new and the entries that would have to go are younger, it returns
// nil and how long until the oldest may go. A listed uri is never refused:
// when the limit was lowered, young entries then stay beyond it for a while.
func useCallback(list []LoopbackCallback, uri string, now time.Time, limit int) ([]LoopbackCallback, time.Duration) {
	out := slices.DeleteFunc(slices.Clone(list), func(c LoopbackCallback) bool { return c.URI == uri })
	listed := len(out) < len(list)
	out = append(out, LoopbackCallback{URI: uri, UsedAt: now})
	excess := len(out) - limit
	n := 0
	for n < excess && now.Sub(out[n].UsedAt) >= CallbackInUseWindow {
		n++
	}
	if n < excess && !listed {
		return nil, CallbackInUseWindow - now.Sub(out[n].UsedAt)
	}
	return out[n:], 0
}

// retainCallbacks keeps the callbacks of list that the new metadata md
// still admits (a registered portless loopback URI matches them), newest
// last, within limit. Used when a registration's metadata changes.
func retainCallbacks(list []LoopbackCallback, md ClientMetadata, limit int) []LoopbackCallback {
	out := slices.DeleteFunc(slices.Clone(list), func(c LoopbackCallback) bool {
		return slices.Contains(md.RedirectURIs, c.URI) || !oauthmeta.RedirectURIListed(md.RedirectURIs, c.URI)
	})
	if len(out) > max(limit, 0) {
		out = out[len(out)-max(limit, 0):]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// push writes the app client reg describes (specOf) to Cognito, then
// settles it.
func (s *Service) push(ctx context.Context, reg *Registration) error {
	spec := specOf(reg)
	if err := s.apps.Update(ctx, reg.ClientID, spec); err != nil {
		return serverError("could not update the app client", fmt.Errorf("update app client %s: %w", reg.ClientID, err))
	}
	return s.settle(ctx, reg.ClientID, spec)
}

// settle runs after every write of an existing app client (pushed): it
// reads the record again and, while the record describes another app
// client than the one last pushed (a concurrent writer changed it, and its
// push may have landed before this one), pushes the record's. A record
// that is gone (deleted concurrently) ends it. See UseRedirectURI for what
// this guarantees.
func (s *Service) settle(ctx context.Context, clientID string, pushed AppClientSpec) error {
	for range maxSettleRounds {
		cur, err := s.store.Get(ctx, clientID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return serverError("could not read the registration", fmt.Errorf("get registration %s: %w", clientID, err))
		}
		want := specOf(cur)
		if sameSpec(want, pushed) {
			return nil
		}
		if err := s.apps.Update(ctx, clientID, want); err != nil {
			return serverError("could not update the app client", fmt.Errorf("update app client %s: %w", clientID, err))
		}
		pushed = want
	}
	s.log.Warn("dcr: app client still changing after repeated pushes; the latest writer settles it", "client_id", clientID)
	return nil
}

// sameSpec compares two app client specs field by field.
func sameSpec(a, b AppClientSpec) bool {
	return a.Name == b.Name && a.GenerateSecret == b.GenerateSecret && a.RefreshTokens == b.RefreshTokens &&
		slices.Equal(a.CallbackURLs, b.CallbackURLs) && slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.Flows, b.Flows)
}
