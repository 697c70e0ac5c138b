package metrics

import (
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

func TestMethodLabel(t *testing.T) {
	allow, deny := observe.DecisionAllow, observe.DecisionDeny
	tests := []struct {
		name       string
		httpMethod string
		method     string
		decision   observe.Decision
		reason     observe.Reason
		want       string
	}{
		{"tools/call", "POST", "tools/call", allow, "", "tools/call"},
		{"denied tools/call", "POST", "tools/call", deny, observe.ReasonScope, "tools/call"},
		{"subscriptions/listen", "POST", "subscriptions/listen", allow, "", "subscriptions/listen"},
		{"notification", "POST", "notifications/initialized", allow, "", "notification"},
		{"custom notification", "POST", "notifications/anything/at/all", allow, "", "notification"},
		{"response", "POST", "", allow, "", "response"},
		{"response the upstream failed", "POST", "", observe.DecisionError, observe.ReasonUpstream, "response"},
		{"response the upstream timed out", "POST", "", observe.DecisionError, observe.ReasonTimeout, "response"},
		{"refused before the body", "POST", "", deny, "signature", "other"},
		{"keys unavailable", "POST", "", observe.DecisionError, observe.ReasonUnavailable, "other"},
		{"unknown method", "POST", "tools/delete", allow, "", "other"},
		{"wrong case", "POST", "Tools/Call", allow, "", "other"},
		{"server-to-client method", "POST", "sampling/createMessage", allow, "", "other"},
		{"GET", "GET", "", allow, "", "GET"},
		{"DELETE", "DELETE", "", allow, "", "DELETE"},
		{"GET ignores a method", "GET", "tools/call", allow, "", "GET"},
		{"PUT", "PUT", "tools/call", deny, "", "other"},
		{"lower-case get", "get", "", allow, "", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &observe.Event{HTTPMethod: tt.httpMethod, Operation: observe.Operation{Method: tt.method},
				Decision: tt.decision, Reason: tt.reason}
			if got := methodLabel(e); got != tt.want {
				t.Fatalf("methodLabel = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOtherLabels(t *testing.T) {
	for status, want := range map[int]string{200: "200", 599: "599", 100: "100", 0: "other", 99: "other", 600: "other", 1000: "other"} {
		if got := statusLabel(status); got != want {
			t.Errorf("statusLabel(%d) = %q, want %q", status, got, want)
		}
	}
	for kind, want := range map[string]string{"connect": "connect", "process": "process", "eof": "other", "": "other"} {
		if got := upstreamErrorLabel(kind); got != want {
			t.Errorf("upstreamErrorLabel(%q) = %q, want %q", kind, got, want)
		}
	}
	if reasonLabel("") != "none" || reasonLabel("expired") != "expired" {
		t.Error("reasonLabel")
	}
	if decisionLabel("") != "allow" || decisionLabel(observe.DecisionDeny) != "deny" {
		t.Error("decisionLabel")
	}
}
