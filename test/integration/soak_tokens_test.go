//go:build soak && unix

package integration

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// soakPrincipal is one caller of the traffic soak.
type soakPrincipal struct {
	name    string // the token's sub
	echo    bool   // granted mcp:echo, which the scoped tools need
	abusive bool   // floods: 429 is an expected answer
}

// Token kinds of the soak. Valid-signature kinds (soakValid, soakHeld,
// soakNoToolsScope) are signed by the issuer's key of their generation;
// every other kind can never pass (401).
const (
	soakValid        = "valid"
	soakHeld         = "held (old key)"
	soakNoToolsScope = "no mcp:tools"
	soakExpired      = "expired"
	soakWrongAud     = "wrong audience"
	soakOtherRoute   = "other route's token"
	soakForged       = "forged signature"
	soakWrongIssuer  = "wrong issuer"
	soakGarbage      = "garbage"
	soakNone         = "no token"
	soakAttack       = "attack table"
)

// soakToken is the bearer token of one request and what it is.
type soakToken struct {
	kind string
	name string // the attack's name (soakAttack)
	raw  string // "" sends no Authorization header
	p    *soakPrincipal
	gen  int // signing key generation (valid-signature kinds)
	// tools: the token holds the route's required scope mcp:tools.
	tools bool
}

// signed reports whether the token is correctly signed for the issuer,
// audience and time: only its key generation and its scopes decide.
func (t soakToken) signed() bool {
	return t.kind == soakValid || t.kind == soakHeld || t.kind == soakNoToolsScope
}

// soakMinter mints the soak's tokens with the fake issuer: valid ones
// under the current key generation (cached per principal, route and kind,
// re-minted after soakTokenReuse uses so that verification keeps running
// beside the token cache), and a pool of invalid ones minted once.
type soakMinter struct {
	iss     *authntest.Issuer
	base    string // the gateway's public URL
	expires time.Duration

	gen0Key any // the first RSA key and kid, kept for held tokens
	gen0KID string
	gen     atomic.Int32
	minted  atomic.Int64 // valid-signature tokens minted during the soak

	mu      sync.Mutex
	cache   map[string]*soakCached
	invalid map[string][]string           // route -> kind -> tokens
	attacks map[string][]authntest.Attack // route -> attack tokens
}

type soakCached struct {
	tok  soakToken
	uses int
}

// soakTokenReuse is how often a cached valid token is used before a fresh
// one is minted.
const soakTokenReuse = 40

func newSoakMinter(iss *authntest.Issuer, base string, routes []string, expires time.Duration) *soakMinter {
	m := &soakMinter{iss: iss, base: base, expires: expires, cache: map[string]*soakCached{},
		invalid: map[string][]string{}, attacks: map[string][]authntest.Attack{}}
	key, kid := iss.RSA()
	m.gen0Key, m.gen0KID = key, kid
	for i, r := range routes {
		aud := base + r
		other := base + routes[(i+1)%len(routes)]
		now := time.Now()
		claims := func(mod func(c map[string]any)) map[string]any {
			c := m.claims(&soakPrincipal{name: "mallet", echo: true}, aud)
			mod(c)
			return c
		}
		m.invalid[r+"|"+soakExpired] = []string{iss.Mint(claims(func(c map[string]any) {
			c["exp"], c["iat"], c["nbf"] = now.Add(-time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix()
		}))}
		m.invalid[r+"|"+soakWrongAud] = []string{iss.Mint(claims(func(c map[string]any) { c["aud"] = "https://other.example/mcp" }))}
		m.invalid[r+"|"+soakOtherRoute] = []string{iss.Mint(claims(func(c map[string]any) { c["aud"] = other }))}
		m.invalid[r+"|"+soakForged] = []string{iss.Mint(claims(func(map[string]any) {}), authntest.WithKey(iss.Foreign))}
		m.invalid[r+"|"+soakWrongIssuer] = []string{iss.Mint(claims(func(c map[string]any) { c["iss"] = "https://evil.example" }))}
		m.invalid[r+"|"+soakGarbage] = []string{"not-a-token", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "a.b.c", "%%%"}
		for _, a := range authntest.Attacks(iss, aud) {
			if soakSendable(a.Token) {
				m.attacks[r] = append(m.attacks[r], a)
			}
		}
	}
	return m
}

// soakSendable reports whether an attack token is still an attack once
// sent in an Authorization header and reaches the gateway's token check:
// not empty (that is soakNone), no control character (net/http refuses
// to send one), short enough for the HTTP server's header limit (a longer
// one gets 431 from net/http), and without leading or trailing white
// space (in a header that is framing, not part of the token: RFC 6750
// §2.1 allows "Bearer" 1*SP b64token, so " "+valid is the valid token).
func soakSendable(tok string) bool {
	return tok != "" && len(tok) <= 8<<10 && strings.TrimSpace(tok) == tok &&
		!strings.ContainsFunc(tok, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// claims are the soak's access-token claims for p and audience.
func (m *soakMinter) claims(p *soakPrincipal, aud string) map[string]any {
	c := m.iss.Claims(aud)
	c["sub"] = p.name
	c["exp"] = time.Now().Add(m.expires).Unix()
	c["scope"] = "mcp:tools"
	if p.echo {
		c["scope"] = "mcp:tools mcp:echo"
	}
	return c
}

// rotate starts the key rollover: from now on valid tokens are signed by
// the new key (generation 1), and the old key stays published.
func (m *soakMinter) rotate() {
	m.iss.RotateKeepingPrevious()
	m.gen.Store(1)
}

// token returns a token of kind for p on route.
func (m *soakMinter) token(kind string, p *soakPrincipal, route string, rng *rand.Rand) soakToken {
	switch kind {
	case soakNone:
		return soakToken{kind: kind}
	case soakAttack:
		m.mu.Lock()
		defer m.mu.Unlock()
		a := m.attacks[route][rng.IntN(len(m.attacks[route]))]
		return soakToken{kind: kind, name: a.Name, raw: a.Token}
	case soakValid, soakHeld, soakNoToolsScope:
	default:
		m.mu.Lock()
		defer m.mu.Unlock()
		pool := m.invalid[route+"|"+kind]
		if len(pool) == 0 {
			panic(fmt.Sprintf("soak: no %q tokens for %s", kind, route))
		}
		return soakToken{kind: kind, raw: pool[rng.IntN(len(pool))]}
	}
	gen := int(m.gen.Load())
	if kind == soakHeld {
		gen = 0
	}
	key := fmt.Sprintf("%s|%s|%s|%d", kind, p.name, route, gen)
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.cache[key]; c != nil && c.uses < soakTokenReuse {
		c.uses++
		return c.tok
	}
	c := m.claims(p, m.base+route)
	if kind == soakNoToolsScope {
		c["scope"] = "mcp:echo"
	}
	var opts []authntest.MintOption
	if gen == 0 {
		opts = append(opts, authntest.WithKey(m.gen0Key), authntest.WithKID(m.gen0KID))
	}
	tok := soakToken{kind: kind, raw: m.iss.Mint(c, opts...), p: p, gen: gen, tools: kind != soakNoToolsScope}
	m.minted.Add(1)
	m.cache[key] = &soakCached{tok: tok, uses: 1}
	return tok
}

// soakWeighted picks a kind by weight.
type soakWeighted []struct {
	kind   string
	weight int
}

func (w soakWeighted) pick(rng *rand.Rand) string {
	total := 0
	for _, e := range w {
		total += e.weight
	}
	n := rng.IntN(total)
	for _, e := range w {
		if n < e.weight {
			return e.kind
		}
		n -= e.weight
	}
	return w[len(w)-1].kind
}

// soakRawKinds are the token kinds of stateless requests; soakSessionKinds
// those a go-sdk session is opened with.
var (
	soakRawKinds = soakWeighted{
		{soakValid, 55}, {soakHeld, 10}, {soakNoToolsScope, 5}, {soakAttack, 8},
		{soakExpired, 3}, {soakWrongAud, 3}, {soakOtherRoute, 3}, {soakForged, 3},
		{soakWrongIssuer, 3}, {soakGarbage, 3}, {soakNone, 3},
	}
	soakSessionKinds = soakWeighted{
		{soakValid, 70}, {soakHeld, 10}, {soakNoToolsScope, 4}, {soakAttack, 4},
		{soakExpired, 3}, {soakForged, 3}, {soakWrongIssuer, 3}, {soakNone, 3},
	}
)
