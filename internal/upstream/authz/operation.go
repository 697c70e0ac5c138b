package authz

import (
	"encoding/json"
)

// kind is what a pattern names: a tool, a resource or a prompt.
type kind int

const (
	kindNone kind = iota
	kindTool
	kindResource
	kindPrompt
)

// operation is what one request asks to use, and what its Mcp-Name header
// must carry (MCP 2026-07-28 transports, "Standard headers", SEP-2243).
type operation struct {
	kind  kind
	names []string // matched against the kind's patterns; nil: no check
	// headerName is the Mcp-Name value the body implies; hasHeaderName is
	// false for methods without one (their Mcp-Name is ignored).
	headerName    string
	hasHeaderName bool
	// headerRequired: 2026-07-28 clients must send Mcp-Name (the methods
	// the go-sdk v1.8.0 client always sends it for).
	headerRequired bool
}

// operationOf inspects a request's params. Params that the method needs to
// be authorized but that are missing or not strings are refused with
// -32602: what cannot be authorized is not forwarded.
func operationOf(m message) (operation, *rpcError) {
	var op operation
	switch m.method {
	case "tools/call", "prompts/get":
		name, err := paramString(m, "name")
		if err != nil {
			return op, err
		}
		op = operation{kind: kindTool, names: []string{name}, headerName: name, hasHeaderName: true, headerRequired: true}
		if m.method == "prompts/get" {
			op.kind = kindPrompt
		}
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		uri, err := paramString(m, "uri")
		if err != nil {
			return op, err
		}
		op = operation{headerName: uri, hasHeaderName: true, headerRequired: m.method == "resources/read"}
		if m.method != "resources/unsubscribe" {
			op.kind, op.names = kindResource, uriVariants(uri)
		}
	case "completion/complete":
		return completionOf(m)
	}
	return op, nil
}

// completionOf authorizes completion/complete like the prompt or resource
// (template) its ref names: completions can reveal what they complete.
func completionOf(m message) (operation, *rpcError) {
	params, err := object(m.params, paramKeys)
	if err != nil {
		return operation{}, refuse(codeInvalidParams, m.id, "invalid params: %v", err)
	}
	ref, err := object(params["ref"], paramKeys)
	if err != nil {
		return operation{}, refuse(codeInvalidParams, m.id, "invalid params: ref: %v", err)
	}
	typ, _ := stringMember(ref, "type")
	switch typ {
	case "ref/prompt":
		if name, ok := stringMember(ref, "name"); ok {
			return operation{kind: kindPrompt, names: []string{name}}, nil
		}
	case "ref/resource":
		if uri, ok := stringMember(ref, "uri"); ok {
			return operation{kind: kindResource, names: uriVariants(uri)}, nil
		}
	}
	return operation{}, refuse(codeInvalidParams, m.id, "invalid params: ref must be a ref/prompt with a name or a ref/resource with a uri")
}

func paramString(m message, key string) (string, *rpcError) {
	params, err := object(m.params, paramKeys)
	if err != nil {
		return "", refuse(codeInvalidParams, m.id, "invalid params for %s: %v", m.method, err)
	}
	s, ok := stringMember(params, key)
	if !ok {
		return "", refuse(codeInvalidParams, m.id, "invalid params for %s: %q must be a string", m.method, key)
	}
	return s, nil
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

// rawString decodes a JSON string; ok is false for anything else.
func rawString(raw json.RawMessage) (string, bool) {
	var s string
	if firstByte(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
