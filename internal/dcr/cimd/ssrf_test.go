package cimd

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAddrAllowed proves the address policy, in and out of test mode.
func TestAddrAllowed(t *testing.T) {
	tests := []struct {
		ip           string
		public, test bool // allowed normally, allowed in loopback test mode
	}{
		{"93.184.216.34", true, true},
		{"2606:4700::1111", true, true},
		{"127.0.0.1", false, true},
		{"127.8.9.10", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.0.0.1", false, false},
		{"172.16.5.4", false, false},
		{"192.168.1.1", false, false},
		{"::ffff:192.168.1.1", false, false},
		{"169.254.169.254", false, false},
		{"::ffff:169.254.169.254", false, false},
		{"fe80::1", false, false},
		{"fc00::1", false, false},
		{"fd00:ec2::254", false, false},
		{"100.64.0.1", false, false},
		{"100.127.255.254", false, false},
		{"0.0.0.0", false, false},
		{"0.1.2.3", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, false},
		{"240.0.0.1", false, false},
		{"192.0.2.1", false, false},
		{"198.18.0.1", false, false},
		{"64:ff9b::a00:1", false, false},
		{"2002:a00:1::1", false, false},
		{"2001:db8::1", false, false},
		{"::127.0.0.1", false, false},
		{"2001:10::1", false, false},
		{"fec0::1", false, false},
		{"192.88.99.1", false, false},
		{"2001:4860:4860::8888", true, true},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if got := addrAllowed(ip, false); got != tt.public {
			t.Errorf("addrAllowed(%s) = %v, want %v", tt.ip, got, tt.public)
		}
		if got := addrAllowed(ip, true); got != tt.test {
			t.Errorf("addrAllowed(%s, test mode) = %v, want %v", tt.ip, got, tt.test)
		}
	}
}

// TestSSRFGuardRefuses proves Fetch outside test mode refuses loopback,
// private, link-local, CGNAT and mapped addresses, "localhost", and names
// that resolve to such addresses, before any connection (every target is
// refused before dialing, so nothing outside loopback is contacted); and
// refuses http:// even in test mode.
func TestSSRFGuardRefuses(t *testing.T) {
	var lookups atomic.Int32
	lookup := func(_ context.Context, host string) ([]net.IP, error) {
		lookups.Add(1)
		switch host {
		case "loop.example":
			return []net.IP{net.ParseIP("127.0.0.1")}, nil
		case "meta.example":
			return []net.IP{net.ParseIP("169.254.169.254")}, nil
		case "mixed.example": // one public, one private: the whole host is refused
			return []net.IP{net.ParseIP("93.184.216.34"), net.ParseIP("10.1.2.3")}, nil
		case "mapped.example":
			return []net.IP{net.ParseIP("::ffff:10.0.0.1")}, nil
		}
		return nil, errors.New("unexpected lookup of " + host)
	}
	f := NewFetcher(FetcherOptions{LookupIP: lookup})
	for _, u := range []string{
		"https://127.0.0.1/c.json",
		"https://127.0.0.1:8443/c.json",
		"https://localhost/c.json",
		"https://LOCALHOST./c.json",
		"https://app.localhost/c.json",
		"https://10.0.0.1/c.json",
		"https://192.168.1.1/c.json",
		"https://172.31.0.1/c.json",
		"https://169.254.169.254/latest/meta-data",
		"https://[::1]/c.json",
		"https://[fe80::1]/c.json",
		"https://[fd00::1]/c.json",
		"https://[::ffff:127.0.0.1]/c.json",
		"https://[::ffff:169.254.169.254]/c.json",
		"https://100.64.0.1/c.json",
		"https://0.0.0.0/c.json",
		"https://loop.example/c.json",
		"https://meta.example/c.json",
		"https://mixed.example/c.json",
		"https://mapped.example/c.json",
	} {
		_, err := f.Fetch(context.Background(), u)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: err = %v, want ErrForbiddenAddress", u, err)
			continue
		}
		if be := asBearer(t, err); be.Code != "invalid_client" || strings.Contains(be.Description, "169.254") || strings.Contains(be.Description, "10.") {
			t.Errorf("%s: public error %+v leaks or is wrong", u, be)
		}
	}
	if n := lookups.Load(); n != 4 {
		t.Errorf("%d lookups, want 4 (literals and localhost never resolved)", n)
	}

	h := newDocHost(t)
	test := testFetcher(h, nil)
	httpURL := "http" + strings.TrimPrefix(h.url("/client.json"), "https")
	if _, err := test.Fetch(context.Background(), httpURL); err == nil || !strings.Contains(asBearer(t, err).Description, "https") {
		t.Errorf("http URL in test mode: err = %v", err)
	}
	if _, err := test.Fetch(context.Background(), "https://10.0.0.1/c.json"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("private address in test mode: err = %v", err)
	}
	if h.count("/client.json") != 0 {
		t.Error("metadata host contacted over http")
	}
}

// TestSSRFGuardDialsResolvedAddress proves the fetch connects to the
// address the guard checked: a name resolved by the hook to 127.0.0.1 is
// fetched in test mode (TLS still verifies the name against the
// certificate) and refused outside it.
func TestSSRFGuardDialsResolvedAddress(t *testing.T) {
	h := newDocHost(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(h.srv.URL, "https://"))
	u := "https://example.com:" + port + "/client.json" // httptest's certificate names example.com
	lookup := func(context.Context, string) ([]net.IP, error) { return []net.IP{net.ParseIP("127.0.0.1")}, nil }
	ok := NewFetcher(FetcherOptions{InsecureAllowLoopback: true, RootCAs: h.pool(), LookupIP: lookup})
	if doc, err := ok.Fetch(context.Background(), u); err != nil || doc.ClientID != u {
		t.Fatalf("test mode: %+v, %v", doc, err)
	}
	strict := NewFetcher(FetcherOptions{RootCAs: h.pool(), LookupIP: lookup})
	if _, err := strict.Fetch(context.Background(), u); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("strict mode: %v", err)
	}
}

// TestDialControl proves the socket-level check refuses a forbidden
// address even if resolution were bypassed.
func TestDialControl(t *testing.T) {
	d := &guardedDialer{}
	for addr, ok := range map[string]bool{
		"10.0.0.1:443":          false,
		"[::1]:443":             false,
		"169.254.169.254:80":    false,
		"93.184.216.34:443":     true,
		"not-an-address":        false,
		"[fe80::1%eth0]:443":    false,
		"[2606:4700::1111]:443": true,
	} {
		if err := d.control("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("control(%s) = %v, want ok=%v", addr, err, ok)
		}
	}
}
