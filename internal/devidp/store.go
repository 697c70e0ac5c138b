package devidp

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// codeTTL is the authorization code lifetime (RFC 6749 §4.1.2 recommends at
// most 10 minutes; one minute is plenty for a headless flow).
const codeTTL = 60 * time.Second

// maxPending bounds outstanding codes and refresh tokens; expired entries
// are pruned first, then the store refuses new entries.
const maxPending = 10000

// authCode is what an authorization code stands for.
type authCode struct {
	ClientID      string
	RedirectURI   string
	RedirectGiven bool // redirect_uri was in the request (RFC 6749 §4.1.3)
	Challenge     string
	Scopes        []string
	Resource      string // configured resource, "" when none was requested
	Subject       string
	Nonce         string
	AuthTime      time.Time
	Expires       time.Time
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	ClientID string
	Subject  string
	Scopes   []string // the original grant; never widened
	Resource string
	AuthTime time.Time
	Expires  time.Time
}

// key hashes a bearer value so that the maps never hold usable tokens.
func key(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// putCode stores c under a fresh code and returns the code.
func (s *Server) putCode(c *authCode) (string, bool) {
	code := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.codes) >= maxPending {
		for k, v := range s.codes {
			if now.After(v.Expires) {
				delete(s.codes, k)
			}
		}
		if len(s.codes) >= maxPending {
			return "", false
		}
	}
	s.codes[key(code)] = c
	return code, true
}

// takeCode removes and returns the code's grant: a code is single-use from
// its first presentation, even when that exchange then fails (RFC 6749
// §4.1.2). Expired codes return nil.
func (s *Server) takeCode(code string) *authCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(code)
	c := s.codes[k]
	delete(s.codes, k)
	if c == nil || s.now().After(c.Expires) {
		return nil
	}
	return c
}

// putRefresh stores g under a fresh refresh token and returns the token.
func (s *Server) putRefresh(g *refreshGrant) (string, bool) {
	tok := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.refresh) >= maxPending {
		for k, v := range s.refresh {
			if now.After(v.Expires) {
				delete(s.refresh, k)
			}
		}
		if len(s.refresh) >= maxPending {
			return "", false
		}
	}
	s.refresh[key(tok)] = g
	return tok, true
}

// takeRefresh removes and returns a live refresh grant held by clientID.
// A token presented by another client is left in place (RFC 6749 §10.4).
func (s *Server) takeRefresh(tok, clientID string) *refreshGrant {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(tok)
	g := s.refresh[k]
	if g == nil || g.ClientID != clientID {
		return nil
	}
	delete(s.refresh, k)
	if s.now().After(g.Expires) {
		return nil
	}
	return g
}

// revokeRefresh deletes a refresh token if clientID holds it (RFC 7009 §2.1).
func (s *Server) revokeRefresh(tok, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(tok)
	if g := s.refresh[k]; g != nil && g.ClientID == clientID {
		delete(s.refresh, k)
	}
}

// peekRefresh returns a live refresh grant held by clientID without
// consuming it.
func (s *Server) peekRefresh(tok, clientID string) *refreshGrant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.refresh[key(tok)]
	if g == nil || g.ClientID != clientID || s.now().After(g.Expires) {
		return nil
	}
	return g
}
