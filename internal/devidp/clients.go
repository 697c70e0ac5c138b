package devidp

import (
	"crypto/subtle"
	"slices"
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

// maxClients bounds the dynamic registrations and Client ID Metadata
// Document clients kept in memory; the oldest is evicted when a new one
// would exceed it.
const maxClients = 1000

// maxRedirectURIs bounds redirect_uris per registration.
const maxRedirectURIs = 100

// client is a registered client, or one described by a Client ID Metadata
// Document (then ID is the document URL). Secret is empty for public
// clients.
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
	// document marks a client whose ID is a Client ID Metadata Document URL
	// (see cimd.go); RedirectURIs are the document's, unfiltered.
	document bool
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

// lookupClient returns a registered client or nil.
func (s *Server) lookupClient(id string) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// addClient stores a dynamic registration or a metadata-document client,
// evicting the oldest when full. A client with a stored ID (a document
// fetched again) replaces the stored one and keeps its place.
func (s *Server) addClient(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; ok {
		s.clients[c.ID] = c
		return
	}
	for len(s.order) >= maxClients {
		delete(s.clients, s.order[0])
		s.order = s.order[1:]
	}
	s.clients[c.ID] = c
	s.order = append(s.order, c.ID)
}
