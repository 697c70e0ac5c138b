package cimd

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// nonPublic lists special-use prefixes (RFC 6890 and its IANA registries;
// the CIMD draft §8 "SSRF Attacks" forbids fetching from them) that
// IsGlobalUnicast and IsPrivate leave open: shared address space (CGNAT,
// RFC 6598), "this network", IETF protocol assignments, the 6to4 relay,
// documentation and benchmarking ranges, reserved class E, and IPv6
// prefixes that embed or translate IPv4 addresses (NAT64, 6to4, Teredo,
// IPv4-compatible), IETF assignments (2001::/23), deprecated site-local,
// documentation and discard-only.
var nonPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24",
		"192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"240.0.0.0/4", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
		"2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "fec0::/10",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// addrAllowed reports whether a metadata document may be fetched from ip:
// a public unicast address, or, with allowLoopback (test mode), a loopback
// one. IPv4-mapped IPv6 addresses are judged as the IPv4 address they map.
func addrAllowed(ip netip.Addr, allowLoopback bool) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.IsLoopback() {
		return allowLoopback
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// hostnameAllowed refuses names that always mean this machine ("localhost"
// and *.localhost, RFC 6761 §6.3) before any resolution, unless loopback is
// allowed. Other names are judged by the addresses they resolve to.
func hostnameAllowed(host string, allowLoopback bool) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return allowLoopback
	}
	return true
}

// guardedDialer dials only addresses addrAllowed admits. It resolves the
// host itself and connects to the very addresses it checked (so DNS
// rebinding between check and connect is impossible), and checks again in
// the socket's Control hook, which sees the address actually dialed.
type guardedDialer struct {
	lookup        func(ctx context.Context, host string) ([]net.IP, error)
	allowLoopback bool
	timeout       time.Duration
}

// DialContext is an http.Transport DialContext.
func (d *guardedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", addr, err)
	}
	ips, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	nd := &net.Dialer{Timeout: d.timeout, Control: d.control}
	var firstErr error
	for _, ip := range ips {
		c, err := nd.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// resolve returns the host's addresses, refusing the whole host if any of
// them is forbidden (a name that mixes public and private addresses is
// treated as hostile).
func (d *guardedDialer) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !addrAllowed(ip, d.allowLoopback) {
			return nil, fmt.Errorf("host %s: %w", host, ErrForbiddenAddress)
		}
		return []netip.Addr{ip.Unmap()}, nil
	}
	if !hostnameAllowed(host, d.allowLoopback) {
		return nil, fmt.Errorf("host %q: %w", host, ErrForbiddenAddress)
	}
	raw, err := d.lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("resolve %q: no addresses", host)
	}
	ips := make([]netip.Addr, 0, len(raw))
	for _, r := range raw {
		ip, ok := netip.AddrFromSlice(r)
		if !ok || !addrAllowed(ip, d.allowLoopback) {
			return nil, fmt.Errorf("host %q resolves to %s: %w", host, r, ErrForbiddenAddress)
		}
		ips = append(ips, ip.Unmap())
	}
	return ips, nil
}

// control runs on the socket before connect; address is the dialed ip:port.
func (d *guardedDialer) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %q: %w", address, err)
	}
	if !addrAllowed(ap.Addr(), d.allowLoopback) {
		return fmt.Errorf("dial %s: %w", ap.Addr(), ErrForbiddenAddress)
	}
	return nil
}

// defaultLookup resolves with the system resolver.
func defaultLookup(ctx context.Context, host string) ([]net.IP, error) {
	return net.DefaultResolver.LookupIP(ctx, "ip", host)
}
