// Package cimd bridges OAuth Client ID Metadata Documents (CIMD,
// draft-ietf-oauth-client-id-metadata-document; MCP authorization
// 2025-11-25 and later) onto Amazon Cognito, which knows nothing of them.
//
// A CIMD client uses an https URL as its client_id; the URL serves the
// client's RFC 7591 §2 metadata as JSON. mcp-dcr advertises
// client_id_metadata_document_supported and its own /authorize and /token;
// the [Bridge] fetches the document with a [Fetcher] (size cap, timeout,
// https only, an SSRF guard on every dialed address, HTTP caching), maps it
// to a Cognito app client through a [Registrar] (the same registration rules
// as RFC 7591 DCR), and forwards to Cognito's managed login with the mapped
// client id.
//
// Section numbers below are those of draft-ietf-oauth-client-id-metadata-document
// (§3 Client Identifier URL, §4 the document, §4.1 credential restrictions,
// §5 discovery, §5.2 caching, §7 implementation and §8 security
// considerations; the draft-03 numbering).
//
// Scope and limits, deliberately conservative:
//   - CIMD clients are public clients: token_endpoint_auth_method must be
//     "none" (or absent). private_key_jwt and shared-secret methods are not
//     supported, and a document carrying client_secret is refused.
//   - client_id URLs with a query component are refused (the draft allows
//     but discourages them), as are fragments, user information, "." and
//     ".." segments, an empty or "/" path, and URLs longer than 1024 bytes.
//   - Redirects are never followed when fetching a document (§5: MUST NOT):
//     a 3xx answer is an error.
//   - Documents are fetched only from public unicast addresses (§8, RFC
//     6890); loopback only in the explicit InsecureAllowLoopback test mode.
//   - The redirect_uri of an authorization request must appear in the
//     document byte for byte, except that a portless loopback URI
//     (http://localhost/callback, http://127.0.0.1/) admits any port (RFC
//     8252 §7.3; Claude Code and VS Code publish that form). Cognito
//     compares callback URLs exactly, so the exact URI is added to the
//     mapped app client first, within a bound (dcr.Service.UseRedirectURI),
//     never evicting one a login may still be using
//     (dcr.CallbackInUseWindow).
//   - Every Cognito write a request causes (an app client created for a
//     document never seen or updated for a changed one, a callback URL
//     added or its use refreshed) spends a token of the request's source
//     first (a [Throttle], the HTTP layer's registration limiter); requests
//     that write nothing spend none.
//   - The [Bridge]'s /authorize serves every client, CIMD or not, and
//     refuses requests without PKCE S256 or with a response_type other
//     than code (see [Bridge.Authorize]).
//   - Failed fetches and invalid documents are not cached (§5.2: MUST NOT);
//     concurrent fetches of one URL are collapsed into one; rate limiting is
//     the HTTP layer's job.
//   - The client_uri/logo_uri origins are not compared with the client_id
//     origin, and jwks/jwks_uri are ignored.
package cimd
