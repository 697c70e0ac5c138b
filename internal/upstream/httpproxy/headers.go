package httpproxy

import (
	"net/http"
	"net/textproto"
	"strings"
)

// forwardedRequestHeaders are the client headers an upstream may see (see
// the package doc); Mcp-Param-* is matched by prefix.
var forwardedRequestHeaders = []string{
	"Content-Type", "Accept", "Mcp-Protocol-Version", "Last-Event-Id",
	"Mcp-Method", "Mcp-Name", "User-Agent", "Accept-Language",
}

const paramHeaderPrefix = "Mcp-Param-"

// copiedResponseHeaders are the upstream headers a client may see;
// Mcp-Session-Id is handled separately (rewritten).
var copiedResponseHeaders = []string{
	"Content-Type", "Cache-Control", "Retry-After", "Allow", "Mcp-Protocol-Version",
}

// hopByHop are the RFC 9110 §7.6.1 connection-specific headers (plus the
// de-facto ones) that a proxy must not forward.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization",
}

// requestHeaders builds the upstream request's headers from the client's:
// the allowlist only, minus anything the client's Connection header marks as
// hop-by-hop. Authorization, Cookie and X-Forwarded-* are never in the
// allowlist. Values are copied unchanged; their syntax is not checked.
func requestHeaders(in http.Header) http.Header {
	out := make(http.Header, len(forwardedRequestHeaders)+2)
	drop := connectionTokens(in)
	for _, k := range forwardedRequestHeaders {
		if v, ok := in[k]; ok && !drop[k] {
			out[k] = append([]string(nil), v...)
		}
	}
	for k, v := range in {
		if strings.HasPrefix(k, paramHeaderPrefix) && !drop[k] {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

// copyResponseHeaders copies the allowlisted upstream headers into dst.
// Set-Cookie, WWW-Authenticate, Location, hop-by-hop and all others are
// dropped.
func copyResponseHeaders(dst, src http.Header) {
	drop := connectionTokens(src)
	for _, k := range copiedResponseHeaders {
		if v, ok := src[k]; ok && !drop[k] {
			dst[k] = append([]string(nil), v...)
		}
	}
}

// connectionTokens returns the canonical header names listed in Connection
// plus the fixed hop-by-hop names.
func connectionTokens(h http.Header) map[string]bool {
	drop := make(map[string]bool, len(hopByHop)+2)
	for _, k := range hopByHop {
		drop[k] = true
	}
	for _, v := range h.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				drop[textproto.CanonicalMIMEHeaderKey(tok)] = true
			}
		}
	}
	return drop
}
