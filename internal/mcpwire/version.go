package mcpwire

import "slices"

// Version is the JSON-RPC version every message names (JSON-RPC 2.0 §4).
const Version = "2.0"

// MCP protocol versions (the specification's revisions). Versions are ISO
// dates and compare as strings.
const (
	Version20241105 = "2024-11-05"
	Version20250326 = "2025-03-26"
	Version20250618 = "2025-06-18"
	Version20251125 = "2025-11-25"
	Version20260728 = "2026-07-28"
	// LatestVersion is the newest revision the gateway knows.
	LatestVersion = Version20260728
)

// SessionVersions are the versions of the session generation (Streamable
// HTTP with Mcp-Session-Id, or HTTP+SSE), newest first: what a route whose
// upstream has sessions serves.
var SessionVersions = []string{Version20251125, Version20250618, Version20250326, Version20241105}

// MCP HTTP header names (MCP 2025-06-18 transports "Protocol Version
// Header", "Session Management"; 2026-07-28 "Standard headers", SEP-2243).
const (
	HeaderProtocolVersion = "MCP-Protocol-Version"
	HeaderSessionID       = "Mcp-Session-Id"
	HeaderMethod          = "Mcp-Method"
	HeaderName            = "Mcp-Name"
	HeaderLastEventID     = "Last-Event-ID"
)

// Sessionless reports whether v (an MCP-Protocol-Version value) belongs to
// the sessionless generation (2026-07-28 and later: no Mcp-Session-Id, no
// GET stream, MCP-Protocol-Version, Mcp-Method and Mcp-Name required).
// Unknown later versions count as sessionless; "" does not.
func Sessionless(v string) bool { return v >= Version20260728 }

// BatchAllowed reports whether a JSON-RPC batch may be sent under the
// MCP-Protocol-Version header v: batches exist only in 2025-03-26 (whose
// clients send no such header on initialize) and were removed in
// 2025-06-18. An absent header ("") allows them; an unknown version
// earlier than 2025-06-18 does too.
func BatchAllowed(v string) bool { return v == "" || v < Version20250618 }

// Supported reports whether v is one of versions.
func Supported(v string, versions []string) bool { return slices.Contains(versions, v) }
