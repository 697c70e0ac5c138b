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
// (Options.RateLimit per minute, Options.RateBurst deep), and so does every
// Cognito write the bridge's /authorize and /token requests cause (the
// handler passes the bucket to the bridge as its cimd.Throttle): creating
// an app client for a metadata document never seen (which also counts
// toward the registration ceiling), updating it for a changed one, adding
// a loopback callback URL (a new port) and refreshing a listed one. One
// bucket per source for all of them, so no path multiplies another's
// allowance. The source is the connection's IP (under Lambda the event's
// sourceIp), IPv6 addresses grouped by /64, or the first X-Forwarded-For
// hop when Options.TrustForwardedFor is set (only safe behind a proxy
// that overwrites that header). A refused registration request gets 429
// with Retry-After and {"error":"slow_down"} (the RFC 8628 §3.5 code for
// "ask less often"; RFC 7591 defines none); a refused authorization
// request is redirected to its verified redirect URI with
// temporarily_unavailable (RFC 6749 §4.1.2.1), a refused token request
// gets 503 temporarily_unavailable, and a refused refresh of a listed
// port is skipped (the request goes on: the port works, its use is just
// not recorded). The buckets live in process memory: under Lambda each
// instance counts on its own, so API Gateway throttling is the global
// bound. Not rate limited: metadata documents, and bridge requests that
// write nothing to Cognito (a known, unchanged document, a registered
// URI, a port listed and used in the last minute, a client id the store
// does not know).
package httpapi
