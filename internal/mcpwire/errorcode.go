package mcpwire

import (
	"bytes"
	"strconv"
)

// ErrorCode returns the code of m's error member (JSON-RPC 2.0 §5.1: an
// integer); ok is false when m has no error member, when it is not an
// object (duplicate or case-folded members refused), and when its code is
// absent or not an integer (1.5, "1", 1e400). An integral number written
// with a fraction or exponent (-32000.0, -3.2e4) is that integer.
func (m *Message) ErrorCode() (code int, ok bool) {
	obj, err := Object(m.Error, "code", "message", "data")
	if err != nil {
		return 0, false
	}
	raw := bytes.TrimSpace(obj["code"])
	if c := at(raw, 0); c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int(f)) || f > 1<<53 || f < -(1<<53) {
		return 0, false
	}
	return int(f), true
}
