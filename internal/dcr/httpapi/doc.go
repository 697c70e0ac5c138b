// Package httpapi is the HTTP face of mcp-dcr, the registration service for
// Amazon Cognito. One [Handler] serves both hosts: `mcp-dcr serve` (net/http)
// and AWS Lambda behind API Gateway (through internal/dcr/lambdahttp).
//
// Routes, relative to the public URL (Options.PublicURL, the issuer):
//
//	GET  /.well-known/oauth-authorization-server   RFC 8414 §3 metadata
//	GET  /.well-known/openid-configuration          the same document (OIDC Discovery §4)
//	POST /register                                  RFC 7591 §3.1 registration
//	GET|PUT|DELETE /register/{client_id}            RFC 7592 §2 management
//	GET|POST /authorize, POST /token                CIMD bridge (only when Options.Bridge is set)
//
// When the public URL has a path (https://h/dcr), the metadata is also served
// path-inserted (/.well-known/oauth-authorization-server/dcr, RFC 8414 §3.1)
// and path-appended (/dcr/.well-known/openid-configuration), and the other
// routes are matched with or without the /dcr prefix (API Gateway stages
// and base-path mappings may strip it).
//
// # One-origin layout
//
// Strict MCP clients require the authorization server's issuer to be the
// origin they discovered it from. The recommended deployment therefore puts
// the gateway and this service behind one origin (a CloudFront distribution,
// an ALB or an API Gateway custom domain) and routes by path:
//
//	/register, /register/*                        -> this service (Lambda)
//	/.well-known/oauth-authorization-server*      -> this service
//	/.well-known/openid-configuration             -> this service
//	/authorize, /token                            -> this service (CIMD bridge)
//	everything else (/mcp*, /.well-known/oauth-protected-resource*) -> the gateway
//
// with public_url of both set to the shared origin and the gateway's
// authorization_servers = [that origin]. The README (section "One origin") has the full recipe.
//
// # Abuse controls
//
// Requests to /register and /register/* pass a per-source token bucket
// (Options.RateLimit per minute, Options.RateBurst deep), and so do the
// bridge's /authorize requests that would add a loopback callback URL to
// an app client (a new port: a Cognito write; the handler passes the
// bucket to the bridge as its cimd.Throttle): one bucket per source for
// both, so neither path multiplies the other's allowance. The source is the
// connection's IP (under Lambda the event's sourceIp), IPv6 addresses
// grouped by /64, or the first X-Forwarded-For hop when
// Options.TrustForwardedFor is set (only safe behind a proxy that
// overwrites that header). A refused registration request gets 429 with
// Retry-After and {"error":"slow_down"} (the RFC 8628 §3.5 code for "ask
// less often"; RFC 7591 defines none); a refused authorization request is
// redirected to its verified redirect URI with temporarily_unavailable
// (RFC 6749 §4.1.2.1). The buckets live in process memory: under Lambda
// each instance counts on its own, so API Gateway throttling is the global
// bound. Not rate limited: metadata documents, /token, and /authorize
// requests that add no callback URL (a registered URI, a port already
// listed, a client id the store does not know).
package httpapi
