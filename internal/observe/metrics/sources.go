package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
)

// WatchSessions adds mcpgw_sessions{route}: sessions() is read at each
// scrape (stdio.Server.Sessions: processes; httpproxy.Proxy.Sessions:
// legacy SSE bridge sessions). A route watched twice is an error.
func (m *Metrics) WatchSessions(route string, sessions func() int) error {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "mcpgw_sessions",
		Help:        "Upstream sessions the gateway holds open, by route (stdio processes, legacy SSE bridge sessions).",
		ConstLabels: prometheus.Labels{"route": route},
	}, func() float64 { return float64(sessions()) })
	if err := m.reg.Register(g); err != nil {
		return fmt.Errorf("metrics: sessions of route %s: %w", route, err)
	}
	return nil
}

// KeySet is what the mcpgw_jwks_* metrics read from the issuer's key set.
type KeySet interface {
	// FetchResults counts refreshes that replaced the keys and those
	// that failed.
	FetchResults() (ok, failed int64)
	// Len is the number of keys cached.
	Len() int
	// LoadedAt is when the cached keys were fetched (zero: never).
	LoadedAt() time.Time
}

var _ KeySet = (*authn.KeySet)(nil)

// WatchKeys adds mcpgw_jwks_fetches_total{result="ok"|"error"},
// mcpgw_jwks_keys and mcpgw_jwks_age_seconds (absent until the first
// successful fetch), read from ks at each scrape. Once only.
func (m *Metrics) WatchKeys(ks KeySet) error {
	if err := m.reg.Register(newKeysCollector(ks, m.now)); err != nil {
		return fmt.Errorf("metrics: key set: %w", err)
	}
	return nil
}

// TokenCache is a verifier's verified-token cache (*authn.Verifier).
type TokenCache interface {
	CacheStats() authn.CacheStats
}

var _ TokenCache = (*authn.Verifier)(nil)

// WatchTokenCaches adds mcpgw_token_cache_hits_total and
// mcpgw_token_cache_misses_total, summed over caches (the gateway has one
// verifier per route). Once only.
func (m *Metrics) WatchTokenCaches(caches ...TokenCache) error {
	sum := func() authn.CacheStats {
		var s authn.CacheStats
		for _, c := range caches {
			cs := c.CacheStats()
			s.Hits += cs.Hits
			s.Misses += cs.Misses
		}
		return s
	}
	hits := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "mcpgw_token_cache_hits_total",
		Help: "Access tokens found in the verified-token cache (signature verification skipped), all routes.",
	}, func() float64 { return float64(sum().Hits) })
	misses := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "mcpgw_token_cache_misses_total",
		Help: "Access tokens not in the verified-token cache (or expired there), all routes.",
	}, func() float64 { return float64(sum().Misses) })
	for _, c := range []prometheus.Collector{hits, misses} {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("metrics: token caches: %w", err)
		}
	}
	return nil
}

// keysCollector reads a KeySet at each scrape.
type keysCollector struct {
	ks                 KeySet
	now                func() time.Time
	fetches, keys, age *prometheus.Desc
}

func newKeysCollector(ks KeySet, now func() time.Time) *keysCollector {
	return &keysCollector{
		ks: ks, now: now,
		fetches: prometheus.NewDesc("mcpgw_jwks_fetches_total",
			"Refreshes of the issuer's JWKS by result: ok (keys replaced) or error (discovery or JWKS fetch failed, or no usable key; cached keys kept).",
			[]string{"result"}, nil),
		keys: prometheus.NewDesc("mcpgw_jwks_keys",
			"Usable signing keys cached from the issuer's JWKS.", nil, nil),
		age: prometheus.NewDesc("mcpgw_jwks_age_seconds",
			"Seconds since the cached keys were fetched (absent until the first successful fetch).", nil, nil),
	}
}

func (c *keysCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.fetches
	ch <- c.keys
	ch <- c.age
}

func (c *keysCollector) Collect(ch chan<- prometheus.Metric) {
	ok, failed := c.ks.FetchResults()
	ch <- prometheus.MustNewConstMetric(c.fetches, prometheus.CounterValue, float64(ok), "ok")
	ch <- prometheus.MustNewConstMetric(c.fetches, prometheus.CounterValue, float64(failed), "error")
	ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(c.ks.Len()))
	if at := c.ks.LoadedAt(); !at.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, c.now().Sub(at).Seconds())
	}
}
