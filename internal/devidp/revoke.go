package devidp

import "net/http"

// handleRevoke implements RFC 7009 token revocation for refresh tokens:
// the client authenticates as at the token endpoint and the token is
// deleted if that client holds it. Access tokens are self-contained JWTs and
// are NOT revocable here; revoking one (or an unknown token) still answers
// 200, as RFC 7009 §2.2 requires. token_type_hint is ignored.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, e := readPostForm(r)
	if e != nil {
		writeError(w, e)
		return
	}
	c, e := s.authenticateClient(r, form)
	if e != nil {
		writeError(w, e)
		return
	}
	tok, e := single(form, "token")
	if e != nil {
		writeError(w, e)
		return
	}
	if tok == "" {
		writeError(w, newErr(errInvalidRequest, "token is required"))
		return
	}
	s.revokeRefresh(tok, c.ID)
	s.log.Info("devidp: token revoked", "client_id", c.ID)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
