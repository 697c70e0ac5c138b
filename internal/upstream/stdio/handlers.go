package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// Header names of the Streamable HTTP transport (MCP 2025-11-25).
const (
	hdrSessionID       = "Mcp-Session-Id"
	hdrProtocolVersion = "MCP-Protocol-Version"
	hdrLastEventID     = "Last-Event-ID"
)

// sessionlessVersion is the first protocol version without sessions (MCP
// 2026-07-28); ISO dates compare as strings.
const sessionlessVersion = "2026-07-28"

// supportedVersions are the protocol versions a stdio route serves, newest
// first; the child negotiates among them in initialize.
var supportedVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// ServeHTTP serves the route's MCP endpoint: POST, GET and DELETE of the
// Streamable HTTP transport (MCP 2025-11-25, "Transports"). It needs the
// principal the gateway's bearer middleware verified; it checks that a
// session is used only by the principal (issuer and subject) that opened it
// (403 otherwise). It does not check Origin, scopes or Mcp-Method/Mcp-Name.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, _ := bearer.TokenFromContext(r.Context()).(*authn.Principal)
	if p == nil {
		bearer.WriteJSON(w, bearer.ErrNoToken)
		return
	}
	switch r.Method {
	case http.MethodPost:
		srv.servePOST(w, r, p)
	case http.MethodGet:
		srv.serveGET(w, r, p)
	case http.MethodDelete:
		srv.serveDELETE(w, r, p)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeRPCError(w, http.StatusMethodNotAllowed, nil, codeInvalidRequest, "method not allowed", nil)
	}
}

func owner(p *authn.Principal) string { return p.Issuer + "|" + p.Subject }

func (srv *Server) servePOST(w http.ResponseWriter, r *http.Request, p *authn.Principal) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeRPCError(w, http.StatusUnsupportedMediaType, nil, codeInvalidRequest, "Content-Type must be application/json", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, srv.o.MaxBodyBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			writeRPCError(w, http.StatusRequestEntityTooLarge, nil, codeInvalidRequest, "request body too large", nil)
			return
		}
		writeRPCError(w, http.StatusBadRequest, nil, codeParseError, "could not read the request body", nil)
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		writeRPCError(w, http.StatusBadRequest, nil, codeParseError, "parse error: the body is not JSON", nil)
		return
	}
	msgs, batch, err := parseMessages(compact.Bytes())
	if err != nil {
		writeRPCError(w, http.StatusBadRequest, nil, codeInvalidRequest, "invalid request: "+err.Error(), nil)
		return
	}
	if firstID(msgs) != nil && !acceptsSSE(r) {
		writeRPCError(w, http.StatusNotAcceptable, firstID(msgs), codeInvalidRequest,
			"Accept must include text/event-stream: responses are streamed", nil)
		return
	}
	version := r.Header.Get(hdrProtocolVersion)
	if r.Header.Get(hdrSessionID) == "" {
		switch {
		case !batch && msgs[0].isRequest() && msgs[0].method == "initialize":
			srv.initialize(w, r, p, msgs, compact.Bytes())
		case version >= sessionlessVersion || slices.ContainsFunc(msgs, func(m message) bool { return m.method == "server/discover" }):
			writeUnsupportedVersion(w, firstID(msgs), version)
		default:
			writeRPCError(w, http.StatusBadRequest, firstID(msgs), codeServerError,
				"Bad Request: Mcp-Session-Id header is required (send initialize first)", nil)
		}
		return
	}
	s, ok := srv.lookup(w, r, p, firstID(msgs))
	if !ok {
		return
	}
	s.enter()
	defer s.leave()
	if batch && s.negotiated() >= "2025-06-18" {
		writeRPCError(w, http.StatusBadRequest, nil, codeInvalidRequest, "JSON-RPC batches are not allowed in protocol version "+s.negotiated(), nil)
		return
	}
	if i := slices.IndexFunc(msgs, func(m message) bool { return m.method == "initialize" }); i >= 0 {
		writeRPCError(w, http.StatusBadRequest, msgs[i].rawID, codeInvalidRequest, "the session is already initialized", nil)
		return
	}
	s.post(w, r, msgs, compact.Bytes())
}

// initialize opens a session: a new process gets the initialize request and
// the answer carries the new Mcp-Session-Id.
func (srv *Server) initialize(w http.ResponseWriter, r *http.Request, p *authn.Principal, msgs []message, body []byte) {
	s, err := srv.reserve(owner(p))
	if err != nil {
		var busy *errBusy
		errors.As(err, &busy)
		writeBusy(w, msgs[0].rawID, busy)
		return
	}
	if err := srv.launch(s, p); err != nil {
		s.log.Warn("stdio upstream: cannot start process", "err", err)
		writeRPCError(w, http.StatusBadGateway, msgs[0].rawID, codeInternalError, "upstream process could not be started", nil)
		return
	}
	s.enter()
	defer s.leave()
	w.Header().Set(hdrSessionID, s.id)
	if !s.post(w, r, msgs, body) {
		// Nobody else knows the session id: do not keep its process.
		s.end(http.StatusNotFound, "the client left before initialize was answered")
		s.stop()
	}
}

// lookup finds the session named by Mcp-Session-Id and checks its owner
// and the MCP-Protocol-Version header.
func (srv *Server) lookup(w http.ResponseWriter, r *http.Request, p *authn.Principal, id json.RawMessage) (*session, bool) {
	sid := r.Header.Get(hdrSessionID)
	if sid == "" {
		writeRPCError(w, http.StatusBadRequest, id, codeServerError, "Bad Request: Mcp-Session-Id header is required", nil)
		return nil, false
	}
	srv.mu.Lock()
	s := srv.sessions[sid]
	srv.mu.Unlock()
	if s == nil {
		writeRPCError(w, http.StatusNotFound, id, codeSessionNotFound, "session not found", nil)
		return nil, false
	}
	if s.owner != owner(p) {
		writeRPCError(w, http.StatusForbidden, id, codeInvalidRequest, "this session belongs to another user", nil)
		return nil, false
	}
	if v := r.Header.Get(hdrProtocolVersion); v != "" && !slices.Contains(supportedVersions, v) {
		if v >= sessionlessVersion {
			writeUnsupportedVersion(w, id, v)
		} else {
			writeRPCError(w, http.StatusBadRequest, id, codeInvalidRequest, "unsupported MCP-Protocol-Version "+v, nil)
		}
		return nil, false
	}
	return s, true
}

func (srv *Server) serveGET(w http.ResponseWriter, r *http.Request, p *authn.Principal) {
	if !acceptsSSE(r) {
		writeRPCError(w, http.StatusNotAcceptable, nil, codeInvalidRequest, "Accept must include text/event-stream", nil)
		return
	}
	if r.Header.Get(hdrProtocolVersion) >= sessionlessVersion {
		w.Header().Set("Allow", "POST")
		writeRPCError(w, http.StatusMethodNotAllowed, nil, codeInvalidRequest, "no GET stream in protocol version "+r.Header.Get(hdrProtocolVersion), nil)
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
	if leid := r.Header.Get(hdrLastEventID); leid != "" {
		var status int
		if st, cursor, status = s.resume(leid); st == nil {
			writeRPCError(w, status, nil, codeInvalidRequest, "cannot resume stream "+leid, nil)
			return
		}
	} else if st, cursor, ok = s.openStandalone(); !ok {
		writeRPCError(w, http.StatusConflict, nil, codeInvalidRequest, "a GET stream is already open for this session", nil)
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
	writeRPCError(w, http.StatusBadRequest, id, codeUnsupportedVersion,
		"protocol version "+requested+" is not served by this stdio upstream: use initialize",
		map[string]any{"supported": supportedVersions, "requested": requested})
}
