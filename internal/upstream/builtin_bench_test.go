//go:build unix

package upstream

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// BenchmarkBuiltinToolsCall measures one built-in tools/call on the
// server side only: the request goes straight into the handler the gateway
// mounts (call.Read, the SDK identity bridge, the go-sdk's stateless
// Streamable HTTP handler, the tool), without a client, a network or a
// token check, so a CPU profile shows what the built-in path itself costs.
// cpu-ns/op is the process's CPU time per call, garbage collection
// included: on a shared machine it moves less than ns/op.
func BenchmarkBuiltinToolsCall(b *testing.B) {
	p := &authn.Principal{Subject: "alice", Issuer: "https://issuer.test", Scopes: []string{"mcp:read"},
		Expiry: time.Now().Add(time.Hour)}
	h := withPrincipal(p, call.Read(0, NewBuiltin(BuiltinOptions{Version: "bench"})))
	for _, tool := range []struct{ name, args string }{
		{"echo", `{"message":"bench"}`},
		{"whoami", `{}`},
	} {
		b.Run(tool.name, func(b *testing.B) {
			b.ReportAllocs()
			start := testkit.CPUTime()
			for b.Loop() {
				if body := callTool(b, h, tool.name, tool.args); !strings.Contains(body, `"result"`) || strings.Contains(body, `"isError":true`) {
					b.Fatal(body)
				}
			}
			b.ReportMetric(float64((testkit.CPUTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
