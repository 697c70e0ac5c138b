package config

import (
	"net"
	"net/netip"
	"time"
)

// Defaults of the operational settings.
const (
	// DefaultMaxStreamsPerPrincipal is max_streams_per_principal's
	// default. Agents issue tool calls in parallel (one call per tool the
	// model picks in a turn, sub-agents beside them) and keep a GET stream
	// open per session: 16 refused ordinary parallel use, 64 does not while
	// still bounding one caller's goroutines and upstream connections.
	DefaultMaxStreamsPerPrincipal = 64
	// DefaultMaxProcessesPerPrincipal is max_processes_per_principal's
	// default: a quarter of the default max_processes, so one caller can
	// never hold a stdio route's every process.
	DefaultMaxProcessesPerPrincipal = 4
	// DefaultRateLimitPerIPBurst and DefaultRateLimitPerPrincipalBurst are
	// the burst sizes: two seconds of the default rates.
	DefaultRateLimitPerIPBurst        = 100
	DefaultRateLimitPerPrincipalBurst = 40
	// AuditLogOff disables the audit log.
	AuditLogOff = "off"
)

func (c *Config) applyOpsDefaults() {
	setDefault(&c.AuditLog, DefaultAuditLog)
	if c.BodyReadTimeout == 0 {
		c.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.RateLimitPerIP == 0 {
		c.RateLimitPerIP = DefaultRateLimitPerIP
	}
	if c.RateLimitPerIPBurst == 0 {
		c.RateLimitPerIPBurst = DefaultRateLimitPerIPBurst
	}
	if c.RateLimitPerPrincipal == 0 {
		c.RateLimitPerPrincipal = DefaultRateLimitPerPrincipal
	}
	if c.RateLimitPerPrincipalBurst == 0 {
		c.RateLimitPerPrincipalBurst = DefaultRateLimitPerPrincipalBurst
	}
}

// checkOps reports problems of the operational settings.
func (c *Config) checkOps(bad func(key, format string, args ...any)) {
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			bad("metrics_listen", "%q is not host:port: %v", c.MetricsListen, err)
		} else if c.MetricsListen == c.Listen {
			bad("metrics_listen", "%q is the same address as listen; leave it empty to serve /metrics there", c.MetricsListen)
		}
	}
	if c.BodyReadTimeout < 0 || c.BodyReadTimeout > 10*time.Minute {
		bad("body_read_timeout", "%s is outside 0..10m", c.BodyReadTimeout)
	}
	if c.RateLimitPerIPBurst < 0 {
		bad("rate_limit_per_ip_burst", "%d is negative", c.RateLimitPerIPBurst)
	}
	if c.RateLimitPerPrincipalBurst < 0 {
		bad("rate_limit_per_principal_burst", "%d is negative", c.RateLimitPerPrincipalBurst)
	}
	for i, p := range c.TrustedProxies {
		if _, err := ParseTrustedProxy(p); err != nil {
			bad("trusted_proxies", "entry %d: %v", i, err)
		}
	}
	checkTLSFiles(bad, c.TLSCertFile, c.TLSKeyFile)
}

// ParseTrustedProxy reads one trusted_proxies entry: a CIDR (10.0.0.0/8)
// or a single address (a /32 or /128).
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, &net.ParseError{Type: "CIDR or IP address", Text: s}
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// checkTLSFiles: tls_cert_file and tls_key_file come together. The files
// are read when the server starts (a missing file is an error then).
func checkTLSFiles(bad func(key, format string, args ...any), cert, key string) {
	switch {
	case cert != "" && key == "":
		bad("tls_key_file", "is required with tls_cert_file")
	case cert == "" && key != "":
		bad("tls_cert_file", "is required with tls_key_file")
	}
}
