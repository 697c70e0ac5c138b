//go:build soak && unix

package integration

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Outcomes of one request. The decisions: allowed (2xx with a result),
// 401, 403, 429. Not decisions: an HTTP route's upstream failing (502,
// 503, 504, or the connection failing) and any other error.
const (
	soakAllowed  = "allowed"
	soak401      = "401"
	soak403      = "403"
	soak429      = "429"
	soakUpstream = "upstream error"
	soakError    = "error"
)

// soakTimings are the gateway settings the expected outcomes of the key
// rollover derive from.
type soakTimings struct {
	cacheTTL   time.Duration // token_cache_ttl
	minRefresh time.Duration // jwks_min_refresh
	refresh    time.Duration // jwks_refresh
	// slack covers a JWKS fetch, a scheduling delay and the request's
	// own transit.
	slack time.Duration
}

// soakEvents are the instants of the soak's events, each stored before
// the event acts (so a request that ended before an instant was decided
// before the event), zero until then.
type soakEvents struct {
	timings soakTimings
	rotated atomic.Int64 // unix ns: new key published and signing
	dropped atomic.Int64 // unix ns: old key left the JWKS
	killed  atomic.Int64 // unix ns: HTTP upstream stopped
	back    atomic.Int64 // unix ns: HTTP upstream listening again
}

func soakAt(v *atomic.Int64) time.Time {
	if n := v.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

func soakMark(v *atomic.Int64) { v.Store(time.Now().UnixNano()) }

// keyState says whether the gateway must accept the signature of a token
// of generation gen sent at start and answered at end: yes, no (401), or
// maybe (a window of the rollover in which either is right).
//
//   - Generation 1 (the new key) is minted only after the rotation. The
//     gateway learns it when it fetches the JWKS on an unknown kid, at most
//     once per jwks_min_refresh, so it must accept it from rotated +
//     jwks_min_refresh (+ slack) on; before, either answer is right.
//   - Generation 0 (the old key) is published until dropped, so a request
//     answered before then must pass. After the drop the gateway keeps the
//     key until its next periodic fetch (within jwks_refresh) and a token
//     it verified before that for token_cache_ttl: a request sent after
//     dropped + jwks_refresh + token_cache_ttl (+ slack) must get 401.
func (e *soakEvents) keyState(gen int, start, end time.Time) (ok, maybe bool) {
	t := e.timings
	if gen == 1 {
		rot := soakAt(&e.rotated)
		if start.Sub(rot) >= t.minRefresh+t.slack {
			return true, false
		}
		return false, true
	}
	drop := soakAt(&e.dropped)
	switch {
	case drop.IsZero() || end.Before(drop):
		return true, false
	case start.Sub(drop) > t.refresh+t.cacheTTL+t.slack:
		return false, false
	default:
		return false, true
	}
}

// upstreamDown reports whether a request to the HTTP upstream's route
// overlapped its restart (from the stop until slack after it listens
// again).
func (e *soakEvents) upstreamDown(start, end time.Time) bool {
	killed := soakAt(&e.killed)
	if killed.IsZero() || end.Before(killed) {
		return false
	}
	back := soakAt(&e.back)
	return back.IsZero() || start.Before(back.Add(e.timings.slack))
}

// soakExpectation is the set of right answers to one request.
type soakExpectation struct {
	outcomes  []string
	ambiguous bool // the key rollover admits 401 beside the decision
}

func (x soakExpectation) allows(got string) bool {
	for _, o := range x.outcomes {
		if o == got {
			return true
		}
	}
	return false
}

func (x soakExpectation) String() string {
	s := x.outcomes[0]
	for _, o := range x.outcomes[1:] {
		s += "|" + o
	}
	return s
}

// expect is what the gateway must answer to tok on an operation that
// needs the scoped tool's scope (scoped) or not: 401 for a token that can
// never pass, else the key state's answer combined with the scopes' (403
// without mcp:tools or without mcp:echo for a scoped tool; allowed
// otherwise, and 429 also for the abusive principal).
func (e *soakEvents) expect(tok soakToken, scoped bool, start, end time.Time) soakExpectation {
	if !tok.signed() {
		return soakExpectation{outcomes: []string{soak401}}
	}
	var x soakExpectation
	switch {
	case !tok.tools, scoped && !tok.p.echo:
		x.outcomes = []string{soak403}
	case tok.p.abusive:
		x.outcomes = []string{soakAllowed, soak429}
	default:
		x.outcomes = []string{soakAllowed}
	}
	switch ok, maybe := e.keyState(tok.gen, start, end); {
	case maybe:
		x.outcomes = append(x.outcomes, soak401)
		x.ambiguous = true
	case !ok:
		x.outcomes = []string{soak401}
	}
	return x
}

// soakRecord is one request's classification.
type soakRecord struct {
	route, op  string
	tok        soakToken
	expect     soakExpectation
	got        string
	detail     string // why got, for errors and wrong decisions
	wrong      bool   // a wrong security decision found in the answer itself
	start, end time.Time
}

// soakCounts counts records by case (token kind, or "missing tool scope")
// and outcome, and keeps samples of wrong decisions and errors.
type soakCounts struct {
	events *soakEvents

	mu        sync.Mutex
	byCase    map[string]map[string]int // case -> got -> n
	ambiguous map[string]int
	wrong     map[string]int
	downErrs  map[string]int // upstream errors during the restart
	byRoute   map[string]int
	seen      map[string]int // what the soak must have exercised
	samples   []string       // wrong decisions
	errors    []string       // other errors
}

// Conditions the soak must have exercised to have tested anything.
const (
	soakSeenNewKey  = "new-key token allowed after the rotation"
	soakSeenOldKey  = "old-key token refused after the drop"
	soakSeenRestart = "call allowed on /up after the upstream restart"
	soakSeenRate    = "abusive principal rate-limited"
)

func newSoakCounts(events *soakEvents) *soakCounts {
	return &soakCounts{events: events, byCase: map[string]map[string]int{}, ambiguous: map[string]int{},
		wrong: map[string]int{}, downErrs: map[string]int{}, byRoute: map[string]int{}, seen: map[string]int{}}
}

// caseOf names a record's row: its token kind, "missing tool scope" for a
// valid token calling a tool its principal may not use, or "abusive" for
// the flooding principal.
func (r soakRecord) caseOf() string {
	switch {
	case r.tok.p != nil && r.tok.p.abusive:
		return "abusive principal"
	case r.tok.signed() && r.tok.tools && r.expect.outcomes[0] == soak403:
		return "missing tool scope"
	}
	return r.tok.kind
}

// add classifies and counts r.
func (t *soakCounts) add(r soakRecord) {
	c := r.caseOf()
	down := r.route == "/up" && t.events.upstreamDown(r.start, r.end)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byRoute[r.route]++
	if t.byCase[c] == nil {
		t.byCase[c] = map[string]int{}
	}
	switch {
	case r.wrong:
	case r.got == soakUpstream && down:
		t.downErrs[c]++ // expected while the upstream restarts
	case r.got == soakUpstream || r.got == soakError:
		// Not a decision, but worth reading.
		if len(t.errors) < 20 {
			t.errors = append(t.errors, r.describe())
		}
	case !r.expect.allows(r.got):
		r.wrong = true
	}
	t.byCase[c][r.got]++
	if r.expect.ambiguous {
		t.ambiguous[c]++
	}
	if r.wrong {
		t.wrong[c]++
		if len(t.samples) < 20 {
			t.samples = append(t.samples, r.describe())
		}
		return
	}
	switch {
	case r.got == soakAllowed && r.tok.gen == 1 && !r.expect.ambiguous:
		t.seen[soakSeenNewKey]++
	case r.got == soak401 && r.tok.kind == soakHeld && !r.expect.ambiguous:
		t.seen[soakSeenOldKey]++
	case r.got == soak429 && r.tok.p != nil && r.tok.p.abusive:
		t.seen[soakSeenRate]++
	}
	if back := soakAt(&t.events.back); r.route == "/up" && r.got == soakAllowed && !back.IsZero() && r.start.After(back) {
		t.seen[soakSeenRestart]++
	}
}

// describe is one line about r for the report.
func (r soakRecord) describe() string {
	who := "anonymous"
	if r.tok.p != nil {
		who = r.tok.p.name
	}
	kind := r.tok.kind
	if r.tok.name != "" {
		kind += " " + r.tok.name
	}
	return fmt.Sprintf("%s %s at %s (%s, %s token, key generation %d): expected %s, got %s %s",
		r.route, r.op, r.start.Format("15:04:05.000"), who, kind, r.tok.gen, r.expect, r.got, r.detail)
}
