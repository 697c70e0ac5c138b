package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authnconfig"
	"github.com/mcp-gateway/mcp-gateway/internal/awsconf"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dynamo"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/metrics"
	"github.com/mcp-gateway/mcp-gateway/internal/tlsserve"
)

// app is a wired gateway: its HTTP server and the key set it depends on.
type app struct {
	cfg     *config.Config
	server  *gateway.Server
	keys    *authn.KeySet
	log     *slog.Logger
	closers []io.Closer
	metrics *metrics.Metrics // the Prometheus observer (observers adds it)
	// tls is the HTTPS configuration when tls_cert_file is set.
	tls *tls.Config
}

// wire turns configuration into dependencies. It does no network I/O.
// getenv reads the variables the configuration's *_env keys name (identity
// keys and credentials; os.Getenv outside tests and dev mode).
func wire(cfg *config.Config, log *slog.Logger, getenv func(string) string) (*app, error) {
	clientIDs, err := clientAllowlist(cfg)
	if err != nil {
		return nil, err
	}
	// One key set, one verifier per route, one scope hierarchy carried by
	// every principal (the bearer middleware's required-scope check and the
	// per-tool policy both ask Principal.MissingScopes); doctor --token
	// builds the same.
	keys, verifiers, err := authnconfig.Build(cfg, authnconfig.Options{ClientIDs: clientIDs, Logger: log})
	if err != nil {
		return nil, err
	}
	key, err := sessionKey(cfg, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, keys: keys, log: log}
	obs, obsClosers, err := observers(cfg, log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, obsClosers...)
	var routes []gateway.Route
	sessions := map[string]sessionCounter{} // by route, for mcpgw_sessions
	for _, rv := range verifiers {
		rc, required := rv.Config, rv.RequiredScopes
		h, closer, err := routeHandler(cfg, rc, required, key, getenv, log)
		if err != nil {
			a.close()
			return nil, fmt.Errorf("route %s: %w", rc.Path, err)
		}
		if closer != nil {
			a.closers = append(a.closers, closer)
		}
		if s, ok := closer.(sessionCounter); ok {
			sessions[rc.Path] = s
		}
		routes = append(routes, gateway.Route{
			Path:            rc.Path,
			Verifier:        rv.Verifier,
			RequiredScopes:  required,
			ScopesSupported: cfg.RouteScopesSupported(rc),
			Handler:         h,
			// max_streams_per_principal is held at the gateway's front, so
			// that it covers every route kind and the body phase.
			MaxStreamsPerPrincipal: rc.MaxStreamsPerPrincipal,
		})
	}
	trusted, err := trustedProxies(cfg)
	if err != nil {
		a.close()
		return nil, err
	}
	if a.metrics, err = wireMetrics(obs, keys, verifiers, sessions); err != nil {
		a.close()
		return nil, err
	}
	srv, err := gateway.New(gateway.Options{
		PublicURL:                    cfg.PublicURL,
		AuthorizationServers:         cfg.AuthorizationServers,
		ResourceName:                 cfg.ResourceName,
		Routes:                       routes,
		AllowedOrigins:               cfg.AllowedOrigins,
		InsecureAllowLoopbackOrigins: cfg.InsecureAllowLoopbackOrigins,
		MaxBodyBytes:                 cfg.MaxBodyBytes,
		BodyReadTimeout:              cfg.BodyReadTimeout,
		RateLimitPerIP:               gateway.RateLimit{Rate: cfg.RateLimitPerIP, Burst: cfg.RateLimitPerIPBurst},
		RateLimitPerPrincipal:        gateway.RateLimit{Rate: cfg.RateLimitPerPrincipal, Burst: cfg.RateLimitPerPrincipalBurst},
		ClientIP:                     gateway.ClientIP(trusted),
		StreamKeepalive:              streamKeepalive(cfg),
		Ready:                        keys,
		MetricsHandler:               a.mainMetrics(),
		Observers:                    obs,
		Logger:                       log,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	a.server = srv
	if cfg.TLSCertFile != "" {
		r, err := tlsserve.NewReloader(tlsserve.Options{CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile, Logger: log})
		if err != nil {
			a.close()
			return nil, err
		}
		a.tls = r.Config()
	}
	return a, nil
}

// close stops what the routes started (streams, processes).
func (a *app) close() {
	for _, c := range a.closers {
		if err := c.Close(); err != nil {
			a.log.Warn("closing an upstream", "err", err)
		}
	}
}

// run binds, loads keys in the background and serves until ctx ends.
func (a *app) run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return err
	}
	stopMetrics, err := a.serveMetrics() // metrics_listen, if set
	if err != nil {
		ln.Close()
		return err
	}
	defer stopMetrics()
	go func() {
		if err := a.keys.Start(ctx); err != nil {
			a.log.Warn("issuer keys not loaded yet; retrying in the background", "issuer", a.cfg.Issuer, "err", err)
			return
		}
		a.log.Info("issuer keys loaded", "issuer", a.cfg.Issuer, "jwks_uri", a.keys.JWKSURI())
	}()
	a.log.Info("mcp-gateway listening", "addr", ln.Addr().String(), "tls", a.tls != nil, "public_url", a.cfg.PublicURL, "version", version)
	defer a.close()
	return a.server.Serve(ctx, ln, gateway.ServeOptions{
		TLS:               a.tls,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		ShutdownTimeout:   a.cfg.ShutdownTimeout,
	})
}

// clientAllowlist combines allowed_client_ids with the mcp-dcr
// registrations table (read with GetItem through a cache); nil when neither
// is configured. It does no network I/O.
func clientAllowlist(cfg *config.Config) (authn.ClientIDAllower, error) {
	var allow authn.AnyClientIDs
	if len(cfg.AllowedClientIDs) > 0 {
		allow = append(allow, authn.StaticClientIDs(cfg.AllowedClientIDs))
	}
	if cfg.ClientIDsTable != "" {
		awsCfg, err := awsconf.Load(context.Background(), cfg.AWSRegion, cfg.AWSEndpoint)
		if err != nil {
			return nil, fmt.Errorf("client_ids_table: %w", err)
		}
		store := dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.ClientIDsTable)
		allow = append(allow, dcr.NewClientAllowlist(store, cfg.ClientIDsCacheTTL, nil))
	}
	switch len(allow) {
	case 0:
		return nil, nil
	case 1:
		return allow[0], nil
	}
	return allow, nil
}

// trustedProxies parses trusted_proxies (Validate checked them).
func trustedProxies(cfg *config.Config) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cfg.TrustedProxies))
	for _, s := range cfg.TrustedProxies {
		p, err := config.ParseTrustedProxy(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// streamKeepalive is stream_keepalive: 0 (disabled) when set to 0, the
// default when ApplyDefaults has not run.
func streamKeepalive(cfg *config.Config) time.Duration {
	if cfg.StreamKeepalive == nil {
		return config.DefaultStreamKeepalive
	}
	return *cfg.StreamKeepalive
}
