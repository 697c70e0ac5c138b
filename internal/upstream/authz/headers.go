package authz

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// checkHeaders compares Mcp-Method and Mcp-Name with the one message of a
// POST. The rule for every version: a header that is present must equal
// the body (an intermediary that routes or authorizes on the header must
// see what the server executes). From 2026-07-28 on
// ([mcpwire.Sessionless], so unknown later versions are strict too) the
// headers are also required: Mcp-Method on every request and notification,
// Mcp-Name for tools/call, prompts/get and resources/read. Mcp-Name on a
// governed resources/subscribe is checked when present; on other methods,
// which define no name, it is ignored. An empty header counts as absent; a
// header sent twice is a mismatch. Mcp-Name may carry the SEP-2243
// "=?base64?…?=" form of the name. Mismatches are 400 with
// [mcpwire.CodeHeaderMismatch].
func checkHeaders(h http.Header, m *mcpwire.Message, op operation) *mcpwire.Error {
	strict := mcpwire.Sessionless(h.Get(mcpwire.HeaderProtocolVersion))
	mismatch := func(format string, args ...any) *mcpwire.Error {
		return mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeHeaderMismatch, m.ID, "header mismatch: "+format, args...)
	}
	method, n := header(h, mcpwire.HeaderMethod)
	switch {
	case n > 1:
		return mismatch("%s sent more than once", mcpwire.HeaderMethod)
	case m.IsResponse() && method != "":
		return mismatch("%s on a JSON-RPC response", mcpwire.HeaderMethod)
	case m.IsResponse():
		return nil
	case method == "" && strict:
		return mismatch("missing required %s header", mcpwire.HeaderMethod)
	case method != "" && method != m.Method:
		return mismatch("%s %q does not match the body's method %q", mcpwire.HeaderMethod, method, m.Method)
	}
	if !op.hasHeaderName {
		return nil
	}
	name, n := header(h, mcpwire.HeaderName)
	switch {
	case n > 1:
		return mismatch("%s sent more than once", mcpwire.HeaderName)
	case name == "" && strict && op.headerRequired:
		return mismatch("missing required %s header for %s", mcpwire.HeaderName, m.Method)
	case name != "" && !sameName(name, op.headerName):
		return mismatch("%s does not match the body of %s", mcpwire.HeaderName, m.Method)
	}
	return nil
}

// header returns the first value of key and how many lines carried it.
func header(h http.Header, key string) (string, int) {
	v := h.Values(key)
	if len(v) == 0 {
		return "", 0
	}
	return v[0], len(v)
}

// sameName compares an Mcp-Name value with the body's name, accepting
// SEP-2243's "=?base64?<std base64>?=" form of it.
func sameName(header, name string) bool {
	if header == name {
		return true
	}
	inner, ok := strings.CutPrefix(header, "=?base64?")
	if !ok {
		return false
	}
	inner, ok = strings.CutSuffix(inner, "?=")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(inner)
	return err == nil && string(b) == name
}
