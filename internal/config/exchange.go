package config

import (
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
)

// Route identity modes that send the upstream a token minted for it.
const (
	// IdentityExchange is RFC 8693 token exchange.
	IdentityExchange = tokenexchange.GrantRFC8693
	// IdentityEntraOBO is Microsoft Entra ID's on-behalf-of flow.
	IdentityEntraOBO = tokenexchange.GrantEntraOBO
)

// TokenExchange configures a route whose identity is "exchange" (RFC 8693)
// or "entra-obo": the gateway exchanges the client's access token, at the
// issuer's token endpoint, for a token minted for the upstream, and sends
// that as the upstream's Authorization. The gateway is a confidential client
// of the issuer; its secret or private key comes from the environment.
type TokenExchange struct {
	// TokenExchangeEndpoint is the token endpoint; default the token_endpoint
	// of the issuer's discovery metadata.
	TokenExchangeEndpoint string `mapstructure:"token_exchange_endpoint"`
	// UpstreamAudience and UpstreamResource name the upstream: RFC 8693
	// §2.1 "audience" and "resource" (RFC 8707), exchange only, at least
	// one.
	UpstreamAudience string `mapstructure:"upstream_audience"`
	UpstreamResource string `mapstructure:"upstream_resource"`
	// UpstreamScopes are asked for as "scope" (required for entra-obo, e.g.
	// api://tickets/.default).
	UpstreamScopes []string `mapstructure:"upstream_scopes"`
	// TokenExchangeClientID is the gateway's client at the issuer.
	TokenExchangeClientID string `mapstructure:"token_exchange_client_id"`
	// TokenExchangeClientSecretEnv names the variable holding its secret;
	// TokenExchangePrivateKeyEnv names the one holding a PEM private key
	// (and optionally its certificate) for private_key_jwt. Exactly one.
	TokenExchangeClientSecretEnv string `mapstructure:"token_exchange_client_secret_env"`
	TokenExchangePrivateKeyEnv   string `mapstructure:"token_exchange_private_key_env"`
	// TokenExchangeKeyID is the client assertion's kid (default: the key's
	// RFC 7638 thumbprint); TokenExchangeAssertionAudience its aud
	// (default: the token endpoint, RFC 7523 §3; Auth0 wants its tenant
	// URL).
	TokenExchangeKeyID             string `mapstructure:"token_exchange_key_id"`
	TokenExchangeAssertionAudience string `mapstructure:"token_exchange_assertion_audience"`
	// TokenExchangeAuthMethod is client_secret_basic, client_secret_post or
	// private_key_jwt; default private_key_jwt with a key, else
	// client_secret_basic (exchange) or client_secret_post (entra-obo).
	TokenExchangeAuthMethod string `mapstructure:"token_exchange_auth_method"`
	// TokenExchangeSubjectTokenType is RFC 8693's subject_token_type
	// (exchange only; default urn:ietf:params:oauth:token-type:access_token).
	TokenExchangeSubjectTokenType string `mapstructure:"token_exchange_subject_token_type"`
	// TokenExchangeRequestedTokenType is RFC 8693's requested_token_type
	// (exchange only; not sent when empty, the default: the server picks,
	// and its answer must be an access token or a JWT).
	TokenExchangeRequestedTokenType string `mapstructure:"token_exchange_requested_token_type"`
}

// Exchanges reports whether identity mode sends an exchanged token.
func Exchanges(identity string) bool {
	return identity == IdentityExchange || identity == IdentityEntraOBO
}

func (t *TokenExchange) applyDefaults(identity string) {
	if !Exchanges(identity) {
		return
	}
	switch {
	case t.TokenExchangePrivateKeyEnv != "":
		setDefault(&t.TokenExchangeAuthMethod, tokenexchange.AuthPrivateKeyJWT)
	case identity == IdentityEntraOBO:
		setDefault(&t.TokenExchangeAuthMethod, tokenexchange.AuthClientSecretPost)
	default:
		setDefault(&t.TokenExchangeAuthMethod, tokenexchange.AuthClientSecretBasic)
	}
	if identity == IdentityExchange {
		setDefault(&t.TokenExchangeSubjectTokenType, tokenexchange.TokenTypeAccessToken)
	}
}

// set lists the keys given a value, for the "only with exchange" check.
func (t TokenExchange) set() []string {
	var out []string
	for _, kv := range []struct{ k, v string }{
		{"token_exchange_endpoint", t.TokenExchangeEndpoint},
		{"upstream_audience", t.UpstreamAudience},
		{"upstream_resource", t.UpstreamResource},
		{"token_exchange_client_id", t.TokenExchangeClientID},
		{"token_exchange_client_secret_env", t.TokenExchangeClientSecretEnv},
		{"token_exchange_private_key_env", t.TokenExchangePrivateKeyEnv},
		{"token_exchange_key_id", t.TokenExchangeKeyID},
		{"token_exchange_auth_method", t.TokenExchangeAuthMethod},
		{"token_exchange_subject_token_type", t.TokenExchangeSubjectTokenType},
		{"token_exchange_requested_token_type", t.TokenExchangeRequestedTokenType},
		{"token_exchange_assertion_audience", t.TokenExchangeAssertionAudience},
	} {
		if kv.v != "" {
			out = append(out, kv.k)
		}
	}
	if len(t.UpstreamScopes) > 0 {
		out = append(out, "upstream_scopes")
	}
	return out
}

// validateExchange checks a route's token exchange keys: only with
// identity exchange or entra-obo, only on an http(s) route with the
// streamable transport (a stdio process and a legacy SSE stream outlive
// the request whose token would be exchanged), with a client and exactly
// one credential. Whether the variables are set is checked when the
// gateway starts.
func (c *Config) validateExchange(r Route, key string, bad func(key, format string, args ...any)) {
	t := r.TokenExchange
	if !Exchanges(r.Identity) {
		for _, k := range t.set() {
			bad(key+"."+k, "applies to identity exchange and entra-obo only")
		}
		return
	}
	switch {
	case r.Kind() != KindHTTP:
		bad(key+".identity", "%s applies to http(s) upstreams only: a stdio process outlives the client token it would be exchanged from", r.Identity)
	case r.Transport != "streamable":
		bad(key+".identity", "%s needs transport streamable: a legacy SSE stream outlives the client token it would be exchanged from", r.Identity)
	}
	if t.TokenExchangeEndpoint != "" {
		c.checkIssuerURL(bad, key+".token_exchange_endpoint", t.TokenExchangeEndpoint)
	}
	if t.TokenExchangeClientID == "" {
		bad(key+".token_exchange_client_id", "is required with identity %s (the gateway's confidential client at the issuer)", r.Identity)
	}
	secret, priv := t.TokenExchangeClientSecretEnv != "", t.TokenExchangePrivateKeyEnv != ""
	if secret == priv {
		bad(key+".token_exchange_client_secret_env", "name exactly one of token_exchange_client_secret_env and token_exchange_private_key_env")
	}
	switch t.TokenExchangeAuthMethod {
	case tokenexchange.AuthClientSecretBasic, tokenexchange.AuthClientSecretPost:
		if priv {
			bad(key+".token_exchange_auth_method", "%s uses a secret, not token_exchange_private_key_env", t.TokenExchangeAuthMethod)
		}
	case tokenexchange.AuthPrivateKeyJWT:
		if secret {
			bad(key+".token_exchange_auth_method", "private_key_jwt uses a key, not token_exchange_client_secret_env")
		}
	default:
		bad(key+".token_exchange_auth_method", "%q is not client_secret_basic, client_secret_post or private_key_jwt", t.TokenExchangeAuthMethod)
	}
	if t.TokenExchangeKeyID != "" && !priv {
		bad(key+".token_exchange_key_id", "applies to private_key_jwt only")
	}
	if t.TokenExchangeAssertionAudience != "" && !priv {
		bad(key+".token_exchange_assertion_audience", "applies to private_key_jwt only")
	}
	checkScopes(bad, key+".upstream_scopes", t.UpstreamScopes)
	if r.Identity == IdentityEntraOBO {
		if len(t.UpstreamScopes) == 0 {
			bad(key+".upstream_scopes", "is required with identity entra-obo (for example api://<upstream app>/.default)")
		}
		for _, k := range []struct{ name, v string }{
			{"upstream_audience", t.UpstreamAudience}, {"upstream_resource", t.UpstreamResource},
			{"token_exchange_subject_token_type", t.TokenExchangeSubjectTokenType},
			{"token_exchange_requested_token_type", t.TokenExchangeRequestedTokenType},
		} {
			if k.v != "" {
				bad(key+"."+k.name, "does not apply to entra-obo (Entra names the upstream by its scopes)")
			}
		}
		return
	}
	if t.UpstreamAudience == "" && t.UpstreamResource == "" {
		bad(key+".upstream_audience", "set upstream_audience, upstream_resource or both with identity exchange (the upstream's identifier at the issuer)")
	}
	if strings.ContainsFunc(t.UpstreamAudience, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		bad(key+".upstream_audience", "%q must not contain spaces or control characters", t.UpstreamAudience)
	}
	if t.UpstreamResource != "" {
		if u, err := url.Parse(t.UpstreamResource); err != nil || !u.IsAbs() || u.Fragment != "" {
			bad(key+".upstream_resource", "%q must be an absolute URI without a fragment (RFC 8707 section 2)", t.UpstreamResource)
		}
	}
	for _, k := range []struct{ name, v string }{
		{"token_exchange_subject_token_type", t.TokenExchangeSubjectTokenType},
		{"token_exchange_requested_token_type", t.TokenExchangeRequestedTokenType},
	} {
		if u, err := url.Parse(k.v); k.v != "" && (err != nil || !u.IsAbs()) {
			bad(key+"."+k.name, "%q must be an absolute URI (RFC 8693 section 3)", k.v)
		}
	}
}
