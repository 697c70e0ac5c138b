package oauthmeta

// ValidScopeToken reports whether s is an RFC 6749 §3.3 scope-token:
//
//	scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
//
// that is, one or more printable ASCII characters other than space, '"' and
// '\'. A scope parameter is such tokens joined by single spaces. This is the
// one implementation of the rule: configuration, registration policy and
// per-tool authorization all call it.
func ValidScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
