package devidp

import "github.com/lestrrat-go/jwx/v2/jwk"

// JWKS returns a copy of the public key set served at /jwks (RFC 7517 §5).
func (s *Server) JWKS() jwk.Set {
	set, err := s.pubSet.Clone()
	if err != nil {
		return jwk.NewSet()
	}
	return set
}
