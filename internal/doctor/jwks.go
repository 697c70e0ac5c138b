package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// jwksInfo is the key set doctor fetched, for explaining a token's kid.
type jwksInfo struct {
	uri string
	set jwk.Set
}

// checkJWKS fetches the key set the gateway will verify tokens with and
// checks that it holds public asymmetric keys only. It returns the set, or
// nil when none could be read.
func checkJWKS(ctx context.Context, r *Report, f *fetcher, cfg *config.Config, probes map[string]*asProbe) *jwksInfo {
	uri, from := cfg.JWKSURI, "configured"
	if uri == "" {
		if cfg.Issuer == "" {
			r.add("jwks", Fail, "no issuer and no jwks_uri configured")
			return nil
		}
		p := probes[cfg.Issuer]
		if p == nil {
			// The issuer is not an advertised authorization server (for
			// example Cognito behind mcp-dcr): the gateway still discovers it.
			p = probeAS(ctx, f, cfg.Issuer, cfg.DiscoveryURL)
			if !p.found() {
				r.add("jwks", Fail, fmt.Sprintf("cannot discover issuer %s (%v) and no jwks_uri is configured", cfg.Issuer, p.oidc.err))
				return nil
			}
			checkIssuer(r, p, "token-issuer")
		}
		for _, d := range []*doc{p.discovery, &p.oidc, &p.rfc8414} {
			if d != nil && d.meta != nil && d.meta.JWKSURI != "" {
				uri, from = d.meta.JWKSURI, "from "+d.url
				break
			}
		}
		switch {
		case uri != "":
		case !p.found():
			r.add("jwks", Fail, "no issuer metadata (see discovery), so no jwks_uri to fetch keys from")
			return nil
		default:
			r.add("jwks", Fail, "the issuer's metadata has no jwks_uri; set jwks_uri")
			return nil
		}
	}
	body, err := f.get(ctx, uri)
	if err != nil {
		r.add("jwks", Fail, fmt.Sprintf("cannot fetch %s: %v", uri, err))
		return nil
	}
	set, err := jwk.Parse(body)
	if err != nil {
		r.add("jwks", Fail, fmt.Sprintf("%s is not a valid JWK set: %v", uri, err))
		return nil
	}
	var public, private, symmetric int
	var kinds []string
	for i := range set.Len() {
		k, _ := set.Key(i)
		switch k.(type) {
		case jwk.SymmetricKey:
			symmetric++
		case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey:
			private++
		case jwk.RSAPublicKey, jwk.ECDSAPublicKey, jwk.OKPPublicKey:
			public++
			kinds = append(kinds, k.KeyType().String())
		}
	}
	switch {
	case private > 0:
		r.add("jwks", Fail, fmt.Sprintf("%s publishes %d private key(s): rotate them now and publish public keys only", uri, private))
	case symmetric > 0:
		r.add("jwks", Fail, fmt.Sprintf("%s holds %d symmetric (oct) key(s): the gateway verifies asymmetric signatures only, and a shared secret must never be published", uri, symmetric))
	case public == 0:
		r.add("jwks", Fail, fmt.Sprintf("%s holds no public signing keys: every token will be refused", uri))
	default:
		r.add("jwks", OK, fmt.Sprintf("%d public key(s) (%s) at %s (%s)", public, strings.Join(kinds, ", "), uri, from))
	}
	return &jwksInfo{uri: uri, set: set}
}
