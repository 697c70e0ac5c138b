package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// ServeHTTP serves the route's MCP endpoint: POST, GET and DELETE of the
// Streamable HTTP transport (MCP 2025-11-25, "Transports"). It takes the
// principal and the parsed body from call.From (the gateway's front read,
// capped and parsed the body once); it checks that a session is used only
// by the principal (issuer and subject) that opened it (403 otherwise). It
// does not check Origin, scopes or Mcp-Method/Mcp-Name.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := call.From(r.Context())
	if c.Principal == nil {
		bearer.WriteJSON(w, bearer.ErrNoToken)
		return
	}
	switch r.Method {
	case http.MethodPost:
		srv.servePOST(w, r, c)
	case http.MethodGet:
		srv.serveGET(w, r, c.Principal)
	case http.MethodDelete:
		srv.serveDELETE(w, r, c.Principal)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusMethodNotAllowed, mcpwire.CodeInvalidRequest, nil, "method not allowed"))
	}
}

func owner(p *authn.Principal) string { return p.Issuer + "|" + p.Subject }

func (srv *Server) servePOST(w http.ResponseWriter, r *http.Request, c *call.Call) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusUnsupportedMediaType, mcpwire.CodeInvalidRequest, nil, "Content-Type must be application/json"))
		return
	}
	body := c.Body
	if body == nil { // mounted without call.Read: a wiring bug; fail closed
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusInternalServerError, mcpwire.CodeInternalError, nil, "the gateway did not read the request body"))
		return
	}
	line, ok := oneLine(body.Raw)
	if !ok {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeParseError, nil, "parse error: the body is not JSON"))
		return
	}
	if len(body.Requests()) > 0 && !acceptsSSE(r) {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusNotAcceptable, mcpwire.CodeInvalidRequest, body.FirstID(),
			"Accept must include text/event-stream: responses are streamed"))
		return
	}
	version := r.Header.Get(mcpwire.HeaderProtocolVersion)
	if r.Header.Get(mcpwire.HeaderSessionID) == "" {
		switch {
		case !body.Batch && body.Messages[0].IsRequest() && body.Messages[0].Method == "initialize":
			srv.initialize(w, r, c.Principal, body, line)
		case mcpwire.Sessionless(version) || slices.ContainsFunc(body.Messages, func(m mcpwire.Message) bool { return m.Method == "server/discover" }):
			writeUnsupportedVersion(w, body.FirstID(), version)
		default:
			mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeServerError, body.FirstID(),
				"Bad Request: Mcp-Session-Id header is required (send initialize first)"))
		}
		return
	}
	s, ok := srv.lookup(w, r, c.Principal, body.FirstID())
	if !ok {
		return
	}
	s.enter()
	defer s.leave()
	if v := s.negotiated(); body.Batch && !mcpwire.BatchAllowed(v) {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeInvalidRequest, nil, "JSON-RPC batches are not allowed in protocol version %s", v))
		return
	}
	if i := slices.IndexFunc(body.Messages, func(m mcpwire.Message) bool { return m.Method == "initialize" }); i >= 0 {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeInvalidRequest, body.Messages[i].ID, "the session is already initialized"))
		return
	}
	s.post(w, r, body, line)
}

// oneLine returns raw (valid JSON) without insignificant whitespace: one
// line, as the stdio transport needs (messages are newline-delimited and
// must not contain embedded newlines; MCP 2025-11-25 "Transports §stdio").
// JSON strings cannot hold a raw newline, so the result has none.
func oneLine(raw []byte) ([]byte, bool) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, false
	}
	return b.Bytes(), true
}

// initialize opens a session: a new process gets the initialize request and
// the answer carries the new Mcp-Session-Id.
func (srv *Server) initialize(w http.ResponseWriter, r *http.Request, p *authn.Principal, body *mcpwire.Body, line []byte) {
	id := body.Messages[0].ID
	var ident map[string]string
	if srv.o.Identity != nil {
		var err error
		if ident, err = identity.Env(r.Context(), srv.o.Identity, p); err != nil {
			srv.o.Logger.Warn("stdio upstream: no identity for the process", "err", err)
			mcpwire.WriteError(w, mcpwire.Errorf(http.StatusInternalServerError, mcpwire.CodeInternalError, id, "the caller's identity for the upstream could not be prepared"))
			return
		}
	}
	s, victim, err := srv.reserve(owner(p))
	if err != nil {
		var busy *errBusy
		errors.As(err, &busy)
		writeBusy(w, r, id, busy)
		return
	}
	defer s.leave() // reserve counted this request in flight
	if victim != nil {
		victim.log.Info("stdio upstream: idle session ended to make room for a new one")
		victim.stop()
	}
	if err := srv.launch(s, ident); err != nil {
		s.log.Warn("stdio upstream: cannot start process", "err", err)
		observe.Failed(r.Context(), observe.ReasonUpstream, "upstream process could not be started")
		observe.SetUpstream(r.Context(), 0, 0, "process")
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadGateway, mcpwire.CodeInternalError, id, "upstream process could not be started"))
		return
	}
	w.Header().Set(mcpwire.HeaderSessionID, s.id)
	if !s.post(w, r, body, line) || s.initTimedOut() {
		// Nobody else knows the session id, or the child did not answer
		// initialize in time: do not keep its process.
		s.end(http.StatusNotFound, "the session was not initialized")
		s.stop()
	}
}

// lookup finds the session named by Mcp-Session-Id and checks its owner
// and the MCP-Protocol-Version header.
func (srv *Server) lookup(w http.ResponseWriter, r *http.Request, p *authn.Principal, id json.RawMessage) (*session, bool) {
	sid := r.Header.Get(mcpwire.HeaderSessionID)
	if sid == "" {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeServerError, id, "Bad Request: Mcp-Session-Id header is required"))
		return nil, false
	}
	srv.mu.Lock()
	s := srv.sessions[sid]
	srv.mu.Unlock()
	if s == nil {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusNotFound, mcpwire.CodeSessionNotFound, id, "session not found"))
		return nil, false
	}
	if s.owner != owner(p) {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusForbidden, mcpwire.CodeInvalidRequest, id, "this session belongs to another user"))
		return nil, false
	}
	if v := r.Header.Get(mcpwire.HeaderProtocolVersion); v != "" && !mcpwire.Supported(v, mcpwire.SessionVersions) {
		if mcpwire.Sessionless(v) {
			writeUnsupportedVersion(w, id, v)
		} else {
			mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeInvalidRequest, id, "unsupported MCP-Protocol-Version %s", v))
		}
		return nil, false
	}
	return s, true
}

func (srv *Server) serveGET(w http.ResponseWriter, r *http.Request, p *authn.Principal) {
	if !acceptsSSE(r) {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusNotAcceptable, mcpwire.CodeInvalidRequest, nil, "Accept must include text/event-stream"))
		return
	}
	if v := r.Header.Get(mcpwire.HeaderProtocolVersion); mcpwire.Sessionless(v) {
		w.Header().Set("Allow", "POST")
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusMethodNotAllowed, mcpwire.CodeInvalidRequest, nil, "no GET stream in protocol version %s", v))
		return
	}
	s, ok := srv.lookup(w, r, p, nil)
	if !ok {
		return
	}
	s.enter()
	defer s.leave()
	var (
		st     *stream
		cursor int
	)
	if leid := r.Header.Get(mcpwire.HeaderLastEventID); leid != "" {
		var status int
		if st, cursor, status = s.resume(leid); st == nil {
			mcpwire.WriteError(w, mcpwire.Errorf(status, mcpwire.CodeInvalidRequest, nil, "cannot resume stream %s", leid))
			return
		}
	} else if st, cursor, ok = s.openStandalone(); !ok {
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusConflict, mcpwire.CodeInvalidRequest, nil, "a GET stream is already open for this session"))
		return
	}
	s.serveStream(w, r, st, cursor, true)
}

// serveDELETE ends the session and stops its process (MCP 2025-11-25,
// "Session Management").
func (srv *Server) serveDELETE(w http.ResponseWriter, r *http.Request, p *authn.Principal) {
	s, ok := srv.lookup(w, r, p, nil)
	if !ok {
		return
	}
	s.end(http.StatusNotFound, "session ended by the client")
	s.stop()
	w.WriteHeader(http.StatusNoContent)
}

// acceptsSSE reports whether the Accept header admits text/event-stream.
func acceptsSSE(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "text/event-stream", "text/*", "*/*":
				return true
			}
		}
	}
	return false
}

// writeUnsupportedVersion refuses a 2026-07-28 (sessionless) request with
// HTTP 400 and UnsupportedProtocolVersion (-32022, MCP 2026-07-28) listing
// the versions served, so the client falls back to initialize.
func writeUnsupportedVersion(w http.ResponseWriter, id json.RawMessage, requested string) {
	mcpwire.WriteError(w, mcpwire.UnsupportedVersion(id, requested, mcpwire.SessionVersions,
		"a stdio upstream serves the session generation only; use initialize"))
}
