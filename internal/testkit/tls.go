package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSFiles is a self-signed certificate written to files, for servers
// that read tls_cert_file and tls_key_file.
type TLSFiles struct {
	CertFile, KeyFile string
	// Cert is the parsed certificate; Pool trusts it (for clients).
	Cert *x509.Certificate
	Pool *x509.CertPool
}

// WriteSelfSignedCert writes a fresh self-signed ECDSA P-256 certificate
// for 127.0.0.1, ::1 and localhost (valid for one hour from now), with
// serial as its serial number, to cert.pem and key.pem in dir
// (overwriting them, as a certificate rotation does).
func WriteSelfSignedCert(t testing.TB, dir string, serial int64) TLSFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "mcp-gateway test"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	cert := SelfSign(t, key, tmpl)
	der := cert.Raw
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := TLSFiles{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), Cert: cert, Pool: x509.NewCertPool()}
	f.Pool.AddCert(cert)
	// Key first, as a careless rotation might: the reloader must not
	// serve a half-written pair.
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(f.KeyFile, "PRIVATE KEY", keyDER)
	write(f.CertFile, "CERTIFICATE", der)
	return f
}

// SelfSign issues tmpl to key's public key, signed by key itself, and
// returns the parsed certificate (its DER in Raw).
func SelfSign(t testing.TB, key crypto.Signer, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
