package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	sdkjson "github.com/segmentio/encoding/json"
)

// The built-in tools are registered with the go-sdk's raw Server.AddTool
// rather than the generic mcp.AddTool, which per call decodes the
// arguments twice and the result once more through the SDK's JSON decoder
// (a fresh 32 KiB buffer each time in go-sdk v1.8.0), validates both
// against their JSON Schemas, and re-encodes the result twice. Here a call
// costs a small encoding/json decode of the arguments and one encode of
// the result, and says and does exactly what mcp.AddTool would:
//
//   - tools/list shows the schemas mcp.AddTool derives from the same Go
//     types (jsonschema.ForType), encoded once at start;
//   - well-formed arguments are recognized by a per-tool check (echo:
//     {"message": <string>}; whoami: none or {}); anything else goes
//     through the same steps as the SDK (decode into a map, apply
//     defaults, validate against the resolved input schema), so a bad
//     call gets the SDK's tool error text, word for word;
//   - the result carries the same structuredContent and content (both
//     tools' results are objects, so the SDK's extra text block for a
//     non-object result never applies).
//
// The result is not validated against the output schema: it is the
// gateway's own struct, which satisfies the schema derived from it (a test
// checks every tool's results against it). TestBuiltinToolsMatchSDK holds
// every answer byte for byte to what mcp.AddTool produces.

// builtinTool is one tool of the built-in server.
type builtinTool struct {
	tool    *mcp.Tool // with its schemas, as tools/list shows it
	handler mcp.ToolHandler
	// in and out are the resolved schemas (out is only used by tests).
	in, out *jsonschema.Resolved
}

// newBuiltinTool derives t's input and output schemas from In and Out as
// mcp.AddTool does and adapts h to the raw tool API. fast returns the
// arguments when it recognizes them as valid, and false when the schema
// check must decide; it must never accept arguments the input schema
// rejects. structured encodes h's output as the SDK would put it in
// structuredContent. The schemas come from the gateway's own types: an
// error deriving them is a programming error, hence the panic (like
// mcp.AddTool's).
func newBuiltinTool[In, Out any](t mcp.Tool, h mcp.ToolHandlerFor[In, Out], fast func(json.RawMessage) (In, bool),
	structured func(Out) (json.RawMessage, error)) builtinTool {
	inSchema, in := schemaOf[In]()
	outSchema, out := schemaOf[Out]()
	t.InputSchema, t.OutputSchema = inSchema, outSchema
	return builtinTool{tool: &t, in: in, out: out,
		handler: func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			args, ok := fast(req.Params.Arguments)
			if !ok {
				var err error
				if args, err = checkArgs[In](req.Params.Arguments, in); err != nil {
					return toolError(err), nil
				}
			}
			res, v, err := h(ctx, req, args)
			if err != nil {
				// As mcp.AddTool: a JSON-RPC error is the call's error,
				// any other is the tool's (isError).
				if wireErr, ok := err.(*jsonrpc.Error); ok {
					return nil, wireErr
				}
				return toolError(err), nil
			}
			if res == nil {
				res = &mcp.CallToolResult{}
			}
			sc, err := structured(v)
			if err != nil {
				return nil, fmt.Errorf("marshaling output: %w", err)
			}
			res.StructuredContent = sc
			if res.Content == nil {
				// The serialized structured result as text, as the
				// SDK adds for clients that do not read
				// structuredContent (MCP 2025-06-18, tools,
				// "Structured Content").
				res.Content = []mcp.Content{&mcp.TextContent{Text: string(sc)}}
			}
			return res, nil
		}}
}

// schemaOf derives T's JSON Schema as mcp.AddTool does (jsonschema.ForType
// with default options, resolved with ValidateDefaults) and returns it
// encoded, so that the SDK's per-call use of Tool.InputSchema (the
// Mcp-Param header annotations of protocol 2026-07-28) re-encodes bytes
// rather than a *jsonschema.Schema.
func schemaOf[T any]() (json.RawMessage, *jsonschema.Resolved) {
	s, err := jsonschema.ForType(reflect.TypeFor[T](), &jsonschema.ForOptions{})
	if err != nil {
		panic(fmt.Sprintf("built-in tool schema of %v: %v", reflect.TypeFor[T](), err))
	}
	r, err := s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("built-in tool schema of %v: %v", reflect.TypeFor[T](), err))
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("built-in tool schema of %v: %v", reflect.TypeFor[T](), err))
	}
	return b, r
}

// checkArgs decodes arguments the fast check did not recognize, with the
// steps and error texts of the go-sdk v1.8.0's mcp.AddTool (applySchema,
// then the typed decode): decode into a map, apply the schema's defaults,
// validate, decode the result into In.
func checkArgs[In any](args json.RawMessage, schema *jsonschema.Resolved) (In, error) {
	var in In
	m := make(map[string]any)
	if len(args) > 0 {
		if err := sdkUnmarshal(args, &m); err != nil {
			return in, fmt.Errorf("validating \"arguments\": unmarshaling arguments: %w", err)
		}
	}
	var v any = m
	if err := schema.ApplyDefaults(&v); err != nil {
		return in, fmt.Errorf("validating \"arguments\": applying schema defaults:\n%w", err)
	}
	if err := schema.Validate(&v); err != nil {
		return in, fmt.Errorf("validating \"arguments\": %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return in, fmt.Errorf("validating \"arguments\": marshalling with defaults: %v", err)
	}
	if err := sdkUnmarshal(b, &in); err != nil {
		return in, err
	}
	return in, nil
}

// sdkUnmarshal decodes data as the go-sdk v1.8.0's internal/json.Unmarshal
// does (segmentio/encoding, case-sensitive member names), so that a
// decoding error reads as the SDK's: for an argument of the wrong JSON
// type it quotes the value (`cannot unmarshal "[]" into ...`) where
// encoding/json names the type. It parses data in place, without the
// SDK's per-call Decoder, and without the SDK's nesting-depth check, which
// the arguments passed when the SDK decoded the message carrying them.
func sdkUnmarshal(data []byte, v any) error {
	_, err := sdkjson.Parse(data, v, sdkjson.DontMatchCaseInsensitiveStructFields)
	return err
}

// toolError is a tool result with isError set and err's text, as the SDK
// reports a tool's failure (MCP 2025-11-25, tools, "Error Handling").
func toolError(err error) *mcp.CallToolResult {
	var res mcp.CallToolResult
	res.SetError(err)
	return &res
}

// echoArgsFast recognizes echo's well-formed arguments: an object whose
// only member is "message" (case-sensitive), a string. It decodes with
// the SDK's JSON library and flags, so the message reads as the SDK would
// have read it.
func echoArgsFast(args json.RawMessage) (EchoArgs, bool) {
	var in struct {
		Message *string `json:"message"`
	}
	if _, err := sdkjson.Parse(args, &in, sdkjson.DontMatchCaseInsensitiveStructFields|sdkjson.DisallowUnknownFields); err != nil || in.Message == nil {
		return EchoArgs{}, false
	}
	return EchoArgs{Message: *in.Message}, true
}

// noArgsFast recognizes the arguments of a tool that takes none: absent
// or {}.
func noArgsFast(args json.RawMessage) (struct{}, bool) {
	if len(args) == 0 {
		return struct{}{}, true
	}
	var m map[string]json.RawMessage
	return struct{}{}, json.Unmarshal(args, &m) == nil && m != nil && len(m) == 0
}

// encodeEcho is echo's structuredContent. With its one member it is what
// the SDK's decode-and-re-encode produces.
func encodeEcho(r EchoResult) (json.RawMessage, error) { return json.Marshal(r) }

// encodeSorted is v's structuredContent as the SDK writes it: encoded,
// decoded into a map and encoded again, so members come in key order.
func encodeSorted[T any](v T) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// builtinTools are the built-in server's tools: whoami and echo.
func builtinTools() []builtinTool {
	return []builtinTool{
		newBuiltinTool(mcp.Tool{
			Name:        "whoami",
			Description: "Show the identity the gateway verified for this request (subject, client, scopes, issuer, audience, expiry). Never shows the token.",
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
		}, whoami, noArgsFast, encodeSorted[Identity]),
		newBuiltinTool(mcp.Tool{
			Name:        "echo",
			Description: "Return the message unchanged.",
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
		}, echo, echoArgsFast, encodeEcho),
	}
}
