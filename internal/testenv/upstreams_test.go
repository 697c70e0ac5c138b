//go:build unix

package testenv

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// conformanceOutput is the shape of a `conformance server --requirements`
// run of @modelcontextprotocol/conformance 0.2.0-alpha.12, shortened.
const conformanceOutput = `Running requirements 2026-07-28 (4 scenarios) against http://127.0.0.1:1/

=== Running scenario: server-stateless ===
Results saved to /tmp/x/server-server-stateless-2026-11-30T16-30-58-151Z

=== SUMMARY ===
✓ server-stateless: 30 passed, 0 failed
✗ tools-list: 1 passed, 1 failed
✗ tasks-lifecycle: 1 passed, 8 failed
✓ json-schema-2020-12: 8 passed, 0 failed

Total: 40 passed, 9 failed

Not scored for 2026-07-28: 2 scenario(s) run, 1 failing. These do not affect conformance.
  ✗ tasks-lifecycle (extension)
  ✓ json-schema-2020-12 (pending)
`

func TestParseConformanceOutput(t *testing.T) {
	got, err := parseConformanceOutput(conformanceOutput, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ConformanceResult{
		"server-stateless":    {Scenario: "server-stateless", Passed: 30, Scored: true},
		"tools-list":          {Scenario: "tools-list", Passed: 1, Failed: 1, Scored: true},
		"tasks-lifecycle":     {Scenario: "tasks-lifecycle", Passed: 1, Failed: 8},
		"json-schema-2020-12": {Scenario: "json-schema-2020-12", Passed: 8},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d scenarios, want %d: %+v", len(got), len(want), got)
	}
	for name, w := range want {
		g := got[name]
		if g.Scenario != w.Scenario || g.Passed != w.Passed || g.Failed != w.Failed || g.Scored != w.Scored {
			t.Errorf("%s: got %+v, want %+v", name, g, w)
		}
	}

	// A scenario announced but missing from the summary is an error.
	short := strings.Replace(conformanceOutput, "(4 scenarios)", "(5 scenarios)", 1)
	if _, err := parseConformanceOutput(short, "", nil); err == nil {
		t.Error("5 announced, 4 summarized: no error")
	}
	if _, err := parseConformanceOutput("Running ...\nboom\n", "", nil); err == nil {
		t.Error("no summary: no error")
	}
}

func TestParseFailedChecks(t *testing.T) {
	got := parseFailedChecks([]byte(`[{"name":"A","status":"SUCCESS"},{"name":"B","status":"FAILURE","errorMessage":"got 400"}]`))
	if len(got) != 1 || got[0] != "B: got 400" {
		t.Errorf("got %q", got)
	}
}

// TestConformanceServerRestartsInPlace: the conformance server started at
// an address can be stopped and started again at the same address, as an
// upstream restarting in place (the soak's upstream restart).
func TestConformanceServerRestartsInPlace(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	first := StartConformanceServerAt(t, addr, true)
	first.Stop()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("%s still accepts connections after Stop", addr)
	}
	second := StartConformanceServerAt(t, addr, true)
	if second.Pid == first.Pid {
		t.Fatalf("the restarted server has the first one's pid %d", first.Pid)
	}
	resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatalf("POST to the restarted server: %v", err)
	}
	_ = resp.Body.Close()
}
