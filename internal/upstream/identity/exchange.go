package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// Exchanger is what [Exchange] needs of a token exchange client
// (*tokenexchange.Exchanger).
type Exchanger interface {
	Exchange(ctx context.Context, subjectToken string) (*tokenexchange.Token, error)
}

var (
	_ Exchanger = (*tokenexchange.Exchanger)(nil)
	_ Injector  = (*Exchange)(nil)
)

// ErrExchange wraps every failure of a token exchange: the authorization
// server refused it (a *tokenexchange.Error within), could not be reached,
// or answered something unusable. The proxy answers 502 and sends nothing
// upstream.
var ErrExchange = errors.New("token exchange failed")

// Exchange sends the upstream, as its Authorization, a token the
// authorization server mints for it from the client's access token (route
// identity "exchange", RFC 8693, or "entra-obo"). The client's token
// itself goes only to the authorization server that issued it. Tokens are
// cached per issuer, subject, client id and the client token's scopes (one
// cache per route), until shortly before they expire and never past the
// client token's expiry; concurrent requests of one key share one
// exchange. A failure is never replaced by another credential. It does not
// check what the authorization server issued: the upstream verifies it.
type Exchange struct {
	ex    Exchanger
	cache *tokenexchange.Cache
}

// NewExchange returns an injector exchanging through ex, keeping tokens in
// cache (one per route: its keys do not name the route).
func NewExchange(ex Exchanger, cache *tokenexchange.Cache) *Exchange {
	return &Exchange{ex: ex, cache: cache}
}

// Apply implements [Injector]. Without a principal it returns
// [ErrNoPrincipal]; a principal not made by the verifier (no access token)
// is an error; a failed exchange is an error wrapping [ErrExchange].
func (x *Exchange) Apply(ctx context.Context, h http.Header, p *authn.Principal) error {
	mcpidentity.StripHeaders(h)
	if p == nil {
		return ErrNoPrincipal
	}
	subject := p.AccessToken()
	if subject == "" {
		return errors.New("identity: the principal carries no access token to exchange")
	}
	tok, err := x.cache.Get(ctx, exchangeKey(p), p.Expiry, func(ctx context.Context) (*tokenexchange.Token, error) {
		return x.ex.Exchange(ctx, subject)
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrExchange, err)
	}
	h.Set("Authorization", "Bearer "+tok.AccessToken)
	return nil
}

// exchangeKey names what an exchanged token was minted for: the issuer,
// subject, client id and (sorted) scopes of the client token, each length
// prefixed so that no two different tuples give one key.
func exchangeKey(p *authn.Principal) string {
	scopes := p.Scopes
	if !slices.IsSorted(scopes) {
		scopes = slices.Sorted(slices.Values(scopes))
	}
	n := len(p.Issuer) + len(p.Subject) + len(p.ClientID) + 4*(3+len(scopes))
	for _, s := range scopes {
		n += len(s)
	}
	var (
		b   strings.Builder
		num [20]byte
	)
	b.Grow(n)
	field := func(s string) {
		b.Write(strconv.AppendInt(num[:0], int64(len(s)), 10))
		b.WriteByte(':')
		b.WriteString(s)
	}
	field(p.Issuer)
	field(p.Subject)
	field(p.ClientID)
	for _, s := range scopes {
		field(s)
	}
	return b.String()
}
