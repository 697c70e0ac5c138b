package authz

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// kind is what a pattern names: a tool, a resource or a prompt.
type kind int

const (
	kindNone kind = iota
	kindTool
	kindResource
	kindPrompt
)

// metaProtocolVersion is the params._meta member in which a 2026-07-28
// request names its protocol version (SEP-2575); the go-sdk server decides
// by it, not by the header, whether a request uses the new protocol.
const metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"

// operation is what one message asks to use, and what its Mcp-Name header
// must carry (MCP 2026-07-28 transports, "Standard headers", SEP-2243).
// kind is kindNone for methods the policy does not govern.
type operation struct {
	kind  kind
	names []string // the tools, resources or prompts used
	// headerName is the Mcp-Name value the body implies; hasHeaderName is
	// false for methods without one (their Mcp-Name is ignored).
	headerName    string
	hasHeaderName bool
	// headerRequired: 2026-07-28 clients must send Mcp-Name (the methods
	// the go-sdk v1.8.0 client always sends it for).
	headerRequired bool
}

// operationOf reads what a message of a governed method uses; messages of
// other methods (and responses) are not inspected at all. Governed are
// tools/call, prompts/get, resources/read, completion/complete,
// subscriptions/listen's resource subscriptions, and resources/subscribe
// (a subscription reveals the resource's updates) except in a request of
// the sessionless generation: one whose MCP-Protocol-Version header
// (sessionless) and params._meta protocol version both name 2026-07-28 or
// later, where the method no longer exists and the upstream answers it.
// Requests and notifications are governed alike. Params that a governed
// method needs to be authorized but that are missing, ambiguous or of the
// wrong type are refused with -32602: what cannot be authorized is not
// forwarded.
func operationOf(m *mcpwire.Message, sessionless bool) (operation, *mcpwire.Error) {
	named := func(k kind, member string, required bool) (operation, *mcpwire.Error) {
		s, err := m.ParamString(member)
		if err != nil {
			return operation{}, err
		}
		return operation{kind: k, names: []string{s}, headerName: s, hasHeaderName: true, headerRequired: required}, nil
	}
	switch m.Method {
	case "tools/call":
		return named(kindTool, "name", true)
	case "prompts/get":
		return named(kindPrompt, "name", true)
	case "resources/read":
		return named(kindResource, "uri", true)
	case "resources/subscribe":
		if sessionless && metaSessionless(m.Params) {
			return operation{}, nil
		}
		return named(kindResource, "uri", false)
	case "subscriptions/listen":
		return listenOf(m)
	case "completion/complete":
		return completionOf(m)
	}
	return operation{}, nil
}

// metaSessionless reports whether params._meta names a sessionless
// protocol version; unreadable params do not.
func metaSessionless(params json.RawMessage) bool {
	p, err := mcpwire.Object(params, "_meta")
	if err != nil {
		return false
	}
	meta, err := mcpwire.Object(p["_meta"], metaProtocolVersion)
	if err != nil {
		return false
	}
	v, ok := mcpwire.String(meta[metaProtocolVersion])
	return ok && mcpwire.Sessionless(v)
}

// completionOf authorizes completion/complete like the prompt or resource
// (template) its ref names: completions can reveal what they complete.
func completionOf(m *mcpwire.Message) (operation, *mcpwire.Error) {
	params, err := mcpwire.Object(m.Params, "ref")
	if err != nil {
		return operation{}, invalidParams(m, "%v", err)
	}
	ref, err := mcpwire.Object(params["ref"], "type", "name", "uri")
	if err != nil {
		return operation{}, invalidParams(m, "ref: %v", err)
	}
	typ, _ := mcpwire.String(ref["type"])
	switch typ {
	case "ref/prompt":
		if name, ok := mcpwire.String(ref["name"]); ok {
			return operation{kind: kindPrompt, names: []string{name}}, nil
		}
	case "ref/resource":
		if uri, ok := mcpwire.String(ref["uri"]); ok {
			return operation{kind: kindResource, names: []string{uri}}, nil
		}
	}
	return operation{}, invalidParams(m, "ref must be a ref/prompt with a name or a ref/resource with a uri")
}

// listenOf authorizes subscriptions/listen (MCP 2026-07-28, SEP-2575),
// which replaced resources/subscribe, like a read of every URI in
// params.notifications.resourceSubscriptions (absent or null: none).
func listenOf(m *mcpwire.Message) (operation, *mcpwire.Error) {
	op := operation{kind: kindResource}
	if isNull(m.Params) {
		return op, nil
	}
	params, err := mcpwire.Object(m.Params, "notifications")
	if err != nil {
		return op, invalidParams(m, "%v", err)
	}
	if isNull(params["notifications"]) {
		return op, nil
	}
	notif, err := mcpwire.Object(params["notifications"], "resourceSubscriptions")
	if err != nil {
		return op, invalidParams(m, "notifications: %v", err)
	}
	subs := notif["resourceSubscriptions"]
	if isNull(subs) {
		return op, nil
	}
	raws, ok := array(subs)
	if !ok {
		return op, invalidParams(m, "resourceSubscriptions must be an array of URIs")
	}
	for _, raw := range raws {
		uri, ok := mcpwire.String(raw)
		if !ok {
			return op, invalidParams(m, "resourceSubscriptions must be an array of URIs")
		}
		op.names = append(op.names, uri)
	}
	return op, nil
}

// array returns the elements of a JSON array; ok is false for anything
// else.
func array(raw json.RawMessage) (elems []json.RawMessage, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, false
	}
	return elems, true
}

// isNull reports an absent member or a JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func invalidParams(m *mcpwire.Message, format string, args ...any) *mcpwire.Error {
	e := mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeInvalidParams, m.ID, format, args...)
	e.Message = "invalid params for " + m.Method + ": " + e.Message
	return e
}

// listKind describes a list method whose result is filtered.
type listKind struct {
	method string // JSON-RPC method
	field  string // result member holding the array
	key    string // member of each entry matched against the patterns
	kind   kind
}

var listKinds = []listKind{
	{"tools/list", "tools", "name", kindTool},
	{"resources/list", "resources", "uri", kindResource},
	{"resources/templates/list", "resourceTemplates", "uriTemplate", kindResource},
	{"prompts/list", "prompts", "name", kindPrompt},
}

func listKindOf(method string) (listKind, bool) {
	for _, k := range listKinds {
		if k.method == method {
			return k, true
		}
	}
	return listKind{}, false
}
