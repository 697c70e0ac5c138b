package mcpwire

import "testing"

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		code int
		ok   bool
	}{
		{"error", `{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x"}}`, -32000, true},
		{"with data", `{"jsonrpc":"2.0","id":null,"error":{"code":-32022,"message":"x","data":{"supported":[]}}}`, -32022, true},
		{"fraction zero", `{"jsonrpc":"2.0","id":1,"error":{"code":-32000.0,"message":"x"}}`, -32000, true},
		{"exponent", `{"jsonrpc":"2.0","id":1,"error":{"code":-3.2e4,"message":"x"}}`, -32000, true},
		{"result", `{"jsonrpc":"2.0","id":1,"result":{}}`, 0, false},
		{"request", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, 0, false},
		{"fractional code", `{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"x"}}`, 0, false},
		{"string code", `{"jsonrpc":"2.0","id":1,"error":{"code":"-32000","message":"x"}}`, 0, false},
		{"no code", `{"jsonrpc":"2.0","id":1,"error":{"message":"x"}}`, 0, false},
		{"huge code", `{"jsonrpc":"2.0","id":1,"error":{"code":1e400,"message":"x"}}`, 0, false},
		{"error not an object", `{"jsonrpc":"2.0","id":1,"error":"x"}`, 0, false},
		{"duplicate code", `{"jsonrpc":"2.0","id":1,"error":{"code":1,"code":2,"message":"x"}}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.msg))
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if code, ok := m.ErrorCode(); code != tt.code || ok != tt.ok {
				t.Errorf("ErrorCode = %d, %v; want %d, %v", code, ok, tt.code, tt.ok)
			}
		})
	}
}
