// Package mcpwire is the gateway's one JSON-RPC 2.0 and server-sent-events
// layer for the Model Context Protocol. Every path that reads or writes MCP
// bytes (authorization, the HTTP proxy and its legacy bridge, the stdio
// relay, the gateway's own errors and the built-in server's front) uses it,
// so that the gateway parses a message one way only.
//
// It provides:
//
//   - [ParseBody] and [ParseMessage]: a strict JSON-RPC 2.0 parser (JSON-RPC
//     2.0 §4, §5, §6). It refuses invalid UTF-8, duplicate object members and
//     members whose names differ only by Unicode case folding (decoders
//     disagree on which one wins, and Go's encoding/json matches names case
//     insensitively), a "jsonrpc" other than "2.0", ids that are neither a
//     string nor a finite number, and messages that are neither a request, a
//     notification nor a response.
//   - [KeyOf]: one canonical key for ids and progress tokens, so that 1, 1.0
//     and 1e0 (equal numbers to any JSON peer that decodes numbers as IEEE
//     754 doubles, as JavaScript does) answer the same request.
//   - The error codes ([CodeParseError] …), the error value [Error] and the
//     one writer of JSON-RPC error responses, [WriteError].
//   - Protocol-version constants and rules ([Sessionless], [BatchAllowed],
//     [SessionVersions]) and the MCP HTTP header names.
//   - One SSE grammar ([Splitter], [Reader], [ParseEvent], [EncodeEvent]) that
//     accepts CR, LF and CRLF line ends (HTML Living Standard §9.2.5), with
//     [EncodeComment] and [EventBoundary] for comments (keep-alives) that
//     must never land inside an event.
//
// It knows nothing of tokens, principals or scopes; package
// internal/upstream/call carries a parsed body and the caller's principal
// with a request.
//
// Not checked here: params against the MCP schema (only the members
// authorization reads are decoded, by their callers), the semantics of
// results, and SSE field values' UTF-8 validity.
package mcpwire
