package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the [Options.ClientIP] of a gateway behind the proxies
// (load balancers) in trusted (trusted_proxies; config.ParseTrustedProxy).
// When the TCP peer is in trusted, the client is the rightmost
// X-Forwarded-For address that is not (every proxy appends the address it
// received the request from, so everything right of that address was
// written by a trusted proxy and everything left of it may be the
// client's invention); if every address is trusted, the leftmost one. When
// the peer is not trusted, its X-Forwarded-For is ignored and the client is
// the peer: a client that sends the header itself cannot choose the
// address its requests are limited and audited under.
//
// Addresses are returned without zone, IPv4-mapped IPv6 addresses as
// IPv4. An X-Forwarded-For entry may carry a port (1.2.3.4:80, [::1]:80);
// an entry that is not an address ends the walk at the last trusted
// address. Not read: the Forwarded header (RFC 7239), X-Real-IP.
func ClientIP(trusted []netip.Prefix) func(*http.Request) string {
	trusted = append([]netip.Prefix(nil), trusted...)
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer, ok := parseHop(r.RemoteAddr)
		if !ok {
			return remoteHost(r.RemoteAddr)
		}
		if !isTrusted(peer) {
			return peer.String()
		}
		hops := forwardedFor(r.Header)
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				break
			}
			client = a
			if !isTrusted(a) {
				break
			}
		}
		return client.String()
	}
}

// forwardedFor is every X-Forwarded-For entry, header lines in order
// (RFC 9110 §5.3: repeated lines are one comma-separated list).
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	return hops
}

// parseHop reads an address, with or without a port, IPv6 optionally in
// brackets.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// remoteHost is the host part of a RemoteAddr that is not an IP address
// (a Unix socket, a test's fake); the whole value if it has no port.
func remoteHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}
