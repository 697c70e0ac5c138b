package devidp

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Grant types and client authentication methods (RFC 7591 §2).
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"

	authNone  = "none"
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
)

// maxClients bounds the dynamic registrations kept in memory; the oldest is
// evicted when a new one would exceed it.
const maxClients = 1000

// maxRedirectURIs bounds redirect_uris per registration.
const maxRedirectURIs = 100

// client is a registered client. Secret is empty for public clients.
type client struct {
	ID           string
	Secret       string
	Name         string
	RedirectURIs []string
	GrantTypes   []string
	AuthMethod   string
	IssuedAt     int64
	// dev marks the pre-registered client: it accepts client_secret_basic and
	// client_secret_post and any loopback http redirect URI.
	dev bool
}

func (c *client) public() bool { return c.AuthMethod == authNone }

func (c *client) allows(grant string) bool { return slices.Contains(c.GrantTypes, grant) }

// acceptsAuth reports whether method may authenticate this client at the
// token endpoint (RFC 7591 §2 token_endpoint_auth_method).
func (c *client) acceptsAuth(method string) bool {
	if c.dev {
		return method == authBasic || method == authPost
	}
	return method == c.AuthMethod
}

// secretMatches compares in constant time.
func (c *client) secretMatches(secret string) bool {
	return c.Secret != "" && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) == 1
}

// matchRedirect returns the redirect URI to use for an authorization
// request (RFC 6749 §3.1.2.3): exact string match with a registered URI,
// except that for http loopback URIs the port may differ (RFC 8252 §7.3).
// When the request names none and exactly one is registered, that one is
// used. The dev client accepts any valid loopback http URI.
func (c *client) matchRedirect(requested string) (string, bool) {
	if requested == "" {
		if len(c.RedirectURIs) == 1 {
			return c.RedirectURIs[0], true
		}
		return "", false
	}
	if slices.Contains(c.RedirectURIs, requested) {
		return requested, true
	}
	ru, err := url.Parse(requested)
	if err != nil || ru.Scheme != "http" || !isLoopback(ru.Hostname()) || validateRedirectURI(requested) != nil {
		return "", false
	}
	if c.dev {
		return requested, true
	}
	for _, reg := range c.RedirectURIs {
		u, err := url.Parse(reg)
		if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
			continue
		}
		if strings.EqualFold(u.Hostname(), ru.Hostname()) && u.EscapedPath() == ru.EscapedPath() && u.RawQuery == ru.RawQuery {
			return requested, true
		}
	}
	return "", false
}

// isLoopback reports whether host is localhost or a loopback IP literal.
func isLoopback(host string) bool { return oauthmeta.IsLoopbackHost(host) }

// deniedSchemes are never accepted as private-use redirect schemes.
var deniedSchemes = []string{"javascript", "data", "file", "vbscript", "about", "blob", "ws", "wss", "ftp"}

// validateRedirectURI applies the registration rules: an absolute URI
// without fragment (RFC 6749 §3.1.2); https with a host; http only on
// loopback hosts (RFC 8252 §7.3, any port); or a private-use scheme such as
// cursor:// (RFC 8252 §7.1; a reverse-domain name is not required). Userinfo
// is refused. Whether the https host belongs to the client is NOT checked.
func validateRedirectURI(raw string) error {
	if strings.Contains(raw, "#") {
		return errors.New("must not contain a fragment")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URI")
	}
	if u.Scheme == "" {
		return errors.New("must be an absolute URI")
	}
	if u.User != nil {
		return errors.New("must not contain userinfo")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("https redirect URI needs a host")
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return errors.New("http is allowed only for localhost, 127.0.0.1 and [::1]")
		}
	default:
		if slices.Contains(deniedSchemes, u.Scheme) {
			return errors.New("scheme " + u.Scheme + " is not allowed")
		}
	}
	return nil
}

// lookupClient returns a registered client or nil.
func (s *Server) lookupClient(id string) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// addClient stores a dynamic registration, evicting the oldest when full.
func (s *Server) addClient(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) >= maxClients {
		delete(s.clients, s.order[0])
		s.order = s.order[1:]
	}
	s.clients[c.ID] = c
	s.order = append(s.order, c.ID)
}
