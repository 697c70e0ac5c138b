package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// JSON-RPC 2.0 error codes (JSON-RPC 2.0 §5.1) and MCP's header mismatch
// code (2026-07-28, SEP-2243; the go-sdk's mcp.CodeHeaderMismatch).
const (
	codeParseError     = jsonrpc.CodeParseError     // -32700
	codeInvalidRequest = jsonrpc.CodeInvalidRequest // -32600
	codeInvalidParams  = jsonrpc.CodeInvalidParams  // -32602
	codeInternalError  = jsonrpc.CodeInternalError  // -32603
	codeHeaderMismatch = -32020
)

// rpcError is a refusal to send as a JSON-RPC error object.
type rpcError struct {
	status int
	code   int64
	msg    string
	id     json.RawMessage // nil: null
}

func (e *rpcError) Error() string { return e.msg }

func refuse(code int64, id json.RawMessage, format string, args ...any) *rpcError {
	return &rpcError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...), id: id}
}

// writeRPCError writes e as {"jsonrpc":"2.0","id":…,"error":{…}}.
func writeRPCError(w http.ResponseWriter, e *rpcError) {
	id := e.id
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	body, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: "2.0", ID: id, Error: struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	}{e.code, e.msg}})
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	_, _ = w.Write(append(body, '\n'))
}

// message is one JSON-RPC 2.0 message as far as authorization needs it.
type message struct {
	id       json.RawMessage // nil when absent
	method   string          // "" for responses
	params   json.RawMessage // nil when absent
	response bool
}

// Keys this package reads, by their case-folded form. A key that differs
// from one of them only by case is refused, because Go's encoding/json
// (and other lenient decoders) match keys case-insensitively and would read
// a value this package did not authorize.
var (
	messageKeys = knownKeys("jsonrpc", "id", "method", "params", "result", "error")
	paramKeys   = knownKeys("name", "uri", "ref", "type")
)

func knownKeys(keys ...string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[fold(k)] = k
	}
	return m
}

// parseBody reads a POST body: one JSON-RPC message or a batch (array).
// Invalid UTF-8 or JSON is a parse error; anything else malformed is an
// invalid request.
func parseBody(body []byte) ([]message, bool, *rpcError) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, false, refuse(codeParseError, nil, "parse error: the body is not valid JSON")
	}
	body = bytes.TrimLeft(body, " \t\r\n")
	switch body[0] {
	case '{':
		m, err := parseMessage(body)
		if err != nil {
			return nil, false, err
		}
		return []message{m}, false, nil
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, true, refuse(codeParseError, nil, "parse error: %v", err)
		}
		if len(raws) == 0 {
			return nil, true, refuse(codeInvalidRequest, nil, "invalid request: empty batch")
		}
		msgs := make([]message, 0, len(raws))
		for _, raw := range raws {
			m, err := parseMessage(raw)
			if err != nil {
				err.id = nil
				return nil, true, err
			}
			msgs = append(msgs, m)
		}
		return msgs, true, nil
	}
	return nil, false, refuse(codeInvalidRequest, nil, "invalid request: not a JSON-RPC object or batch")
}

func parseMessage(raw json.RawMessage) (message, *rpcError) {
	obj, err := object(raw, messageKeys)
	if err != nil {
		return message{}, refuse(codeInvalidRequest, nil, "invalid request: %v", err)
	}
	var m message
	if id, ok := obj["id"]; ok {
		if !validID(id) {
			return m, refuse(codeInvalidRequest, nil, "invalid request: id must be a string or a number")
		}
		m.id = id
	}
	var version string
	if json.Unmarshal(obj["jsonrpc"], &version) != nil || version != "2.0" {
		return m, refuse(codeInvalidRequest, m.id, `invalid request: "jsonrpc" must be "2.0"`)
	}
	_, hasResult := obj["result"]
	_, hasError := obj["error"]
	rawMethod, hasMethod := obj["method"]
	switch {
	case hasMethod:
		if json.Unmarshal(rawMethod, &m.method) != nil || m.method == "" || hasResult || hasError {
			return m, refuse(codeInvalidRequest, m.id, "invalid request: bad method")
		}
		m.params = obj["params"]
	case hasResult != hasError && m.id != nil:
		m.response = true
	default:
		return m, refuse(codeInvalidRequest, m.id, "invalid request: neither a request, a notification nor a response")
	}
	return m, nil
}

// validID accepts a JSON string or number (MCP RequestId); null is refused.
func validID(raw json.RawMessage) bool {
	switch v := firstByte(raw); {
	case v == '"':
		return true
	case v == '-' || v >= '0' && v <= '9':
		return true
	}
	return false
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// idKey is a canonical form of an id, so that 1, 1.0 and 1e0 (and "a" and
// "\u0061") answer the same request. Distinct large numbers may collide;
// that only filters more.
func idKey(raw json.RawMessage) (string, bool) {
	switch firstByte(raw) {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return "s" + s, true
	case 0, 'n':
		return "", false
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err != nil {
		return "n" + string(bytes.TrimSpace(raw)), true
	}
	return "n" + strconv.FormatFloat(f, 'g', -1, 64), true
}

// errDuplicateKey is a JSON object naming a key twice (or two keys equal
// under Unicode case folding): decoders disagree on which one wins.
var errDuplicateKey = errors.New("duplicate key")

// object returns the members of a JSON object, refusing duplicate keys,
// keys that are case-fold equal, and keys that are case-fold equal to a
// known key without being spelled like it. raw must be valid JSON (it is
// part of a body json.Valid accepted); the scan is bounds-checked anyway.
func object(raw json.RawMessage, known map[string]string) (map[string]json.RawMessage, error) {
	i := skipSpace(raw, 0)
	if at(raw, i) != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	folded := make(map[string]bool, 8)
	for i = skipSpace(raw, i+1); at(raw, i) != '}'; {
		if at(raw, i) != '"' {
			return nil, errors.New("malformed object")
		}
		end := stringEnd(raw, i)
		key, err := decodeKey(raw[i:end])
		if err != nil {
			return nil, err
		}
		if i = skipSpace(raw, end); at(raw, i) != ':' {
			return nil, errors.New("malformed object")
		}
		i = skipSpace(raw, i+1)
		vEnd := valueEnd(raw, i)
		if vEnd <= i {
			return nil, errors.New("malformed object")
		}
		f := fold(key)
		if folded[f] {
			return nil, fmt.Errorf("%w %q", errDuplicateKey, key)
		}
		folded[f] = true
		if k, ok := known[f]; ok && k != key {
			return nil, fmt.Errorf("key %q must be spelled %q", key, k)
		}
		out[key] = raw[i:vEnd]
		if i = skipSpace(raw, vEnd); at(raw, i) == ',' {
			i = skipSpace(raw, i+1)
		} else if at(raw, i) != '}' {
			return nil, errors.New("malformed object")
		}
	}
	return out, nil
}

func at(b []byte, i int) byte {
	if i < 0 || i >= len(b) {
		return 0
	}
	return b[i]
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch at(b, i) {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[j])) {
		j++
	}
	return j
}

func decodeKey(q []byte) (string, error) {
	if len(q) < 2 || q[len(q)-1] != '"' {
		return "", errors.New("malformed key")
	}
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1]), nil
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", fmt.Errorf("key: %w", err)
	}
	return s, nil
}

// fold maps s to a canonical case-folded form: each rune becomes the least
// rune of its Unicode simple-folding orbit (so K, k and the Kelvin sign, or
// s, S and ſ, fold alike, as bytes.EqualFold and encoding/json see them).
// For ASCII that is the upper-case letter.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii {
		return strings.ToUpper(s)
	}
	b := make([]rune, 0, len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b = append(b, m)
	}
	return string(b)
}

// stringMember returns obj[key] as a string; ok is false when it is absent
// or not a string.
func stringMember(obj map[string]json.RawMessage, key string) (string, bool) {
	return rawString(obj[key])
}

// marshal encodes v without HTML escaping and without a trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
