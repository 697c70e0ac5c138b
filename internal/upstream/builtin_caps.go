package upstream

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// servedCapabilities is what the built-in server declares: tools, without
// listChanged (its tool list never changes). Set as ServerOptions.
// Capabilities it also drops the go-sdk's default {"logging":{}}: the
// server sends no log messages. Prompts, resources and completions stay
// undeclared because none are registered (the SDK infers them from
// registrations).
func servedCapabilities() *mcp.ServerCapabilities {
	return &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}}
}

// capabilityOf names the server capability each client-to-server method of
// an optional feature needs (MCP 2025-11-25 "Server Features" and
// "Utilities": tools, prompts, resources, logging, completion).
var capabilityOf = map[string]string{
	"tools/list":               "tools",
	"tools/call":               "tools",
	"prompts/list":             "prompts",
	"prompts/get":              "prompts",
	"resources/list":           "resources",
	"resources/templates/list": "resources",
	"resources/read":           "resources",
	"resources/subscribe":      "resources",
	"resources/unsubscribe":    "resources",
	"logging/setLevel":         "logging",
	"completion/complete":      "completions",
}

func declares(caps *mcp.ServerCapabilities, capability string) bool {
	switch capability {
	case "tools":
		return caps.Tools != nil
	case "prompts":
		return caps.Prompts != nil
	case "resources":
		return caps.Resources != nil
	case "logging":
		return caps.Logging != nil
	case "completions":
		return caps.Completions != nil
	}
	return false
}

// onlyDeclared is a go-sdk receiving middleware answering -32601 (method
// not found) to a method whose capability caps does not declare: the go-sdk
// v1.8.0 answers prompts/list, resources/list, resources/templates/list
// and logging/setLevel whatever the server declared. Methods not in
// capabilityOf (initialize, ping, server/discover, notifications) pass.
func onlyDeclared(caps *mcp.ServerCapabilities) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if c, ok := capabilityOf[method]; ok && !declares(caps, c) {
				return nil, &jsonrpc.Error{Code: mcpwire.CodeMethodNotFound,
					Message: fmt.Sprintf("method not found: %s (this server does not declare the %s capability)", method, c)}
			}
			return next(ctx, method, req)
		}
	}
}
