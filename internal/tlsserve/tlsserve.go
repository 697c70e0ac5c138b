// Package tlsserve lets mcp-gateway and `mcp-dcr serve` terminate TLS
// themselves: a certificate and key file pair loaded at start and
// reloaded when the files change, so that a rotated certificate needs no
// restart, a TLS 1.2 minimum, and HSTS (RFC 6797) on HTTPS.
//
// It does not obtain certificates (ACME), check revocation or staple
// OCSP responses, and does not ask clients for certificates.
package tlsserve

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"
)

// DefaultCheckInterval is how often, at most, the files are looked at
// again (on a handshake).
const DefaultCheckInterval = 5 * time.Second

// HSTSValue is the Strict-Transport-Security header sent on HTTPS: one
// year, without includeSubDomains or preload (those decide for other
// hosts of the domain, which the gateway does not own).
const HSTSValue = "max-age=31536000"

// Options configure [NewReloader].
type Options struct {
	// CertFile is a PEM certificate chain, leaf first; KeyFile its private
	// key (PEM).
	CertFile, KeyFile string
	// CheckInterval is the least time between two looks at the files
	// (default DefaultCheckInterval).
	CheckInterval time.Duration
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// Logger receives reloads and failed reloads (default: discard).
	Logger *slog.Logger
}

// Reloader serves the certificate of a file pair, reloading it when
// either file's size or modification time changes. A pair that fails to
// load (a key written before its certificate, a bad file) leaves the last
// good certificate in use and is tried again at the next check.
type Reloader struct {
	o Options

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string // size and mtime of both files when cert was loaded
	nextCheck time.Time
}

// NewReloader loads the pair once; an error names the files.
func NewReloader(o Options) (*Reloader, error) {
	if o.CheckInterval <= 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{o: o}
	stamp, err := r.stampFiles()
	if err != nil {
		return nil, err
	}
	cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert, r.stamp, r.nextCheck = cert, stamp, o.Now().Add(o.CheckInterval)
	return r, nil
}

// GetCertificate is tls.Config.GetCertificate: the current certificate,
// reloaded first when the check interval has passed and the files changed.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.o.Now()
	if now.Before(r.nextCheck) {
		return r.cert, nil
	}
	r.nextCheck = now.Add(r.o.CheckInterval)
	stamp, err := r.stampFiles()
	if err != nil {
		r.o.Logger.Warn("tls: cannot read the certificate files; keeping the current certificate", "err", err)
		return r.cert, nil
	}
	if stamp == r.stamp {
		return r.cert, nil
	}
	cert, err := r.load()
	if err != nil {
		r.o.Logger.Warn("tls: the changed certificate files do not load; keeping the current certificate", "err", err)
		return r.cert, nil
	}
	r.cert, r.stamp = cert, stamp
	r.o.Logger.Info("tls: certificate reloaded", "cert_file", r.o.CertFile, "not_after", cert.Leaf.NotAfter)
	return r.cert, nil
}

// Config returns the server TLS configuration: TLS 1.2 minimum (RFC 9325
// §3.1.1), Go's default cipher suites (no CBC or RSA key exchange for
// TLS 1.2), HTTP/2 and HTTP/1.1 offered.
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

func (r *Reloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.o.CertFile, r.o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls_cert_file %s / tls_key_file %s: %w", r.o.CertFile, r.o.KeyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("tls_cert_file %s: %w", r.o.CertFile, err)
		}
	}
	return &cert, nil
}

func (r *Reloader) stampFiles() (string, error) {
	var s string
	for _, f := range []string{r.o.CertFile, r.o.KeyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return s, nil
}

// HSTS returns next with Strict-Transport-Security (HSTSValue) on every
// response when on is true. Send it when the service's public URL is
// https: browsers ignore the header on plain http (RFC 6797 §8.1), so it
// is harmless behind a TLS-terminating proxy and right when the service
// terminates TLS itself.
func HSTS(on bool, next http.Handler) http.Handler {
	if !on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", HSTSValue)
		next.ServeHTTP(w, r)
	})
}
