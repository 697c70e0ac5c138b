package dcr

import (
	"strings"
	"unicode"
)

// Cognito app client names match [\w\s+=,.@-]+ with 1-128 characters.
const (
	maxCognitoName = 128
	maxNamePrefix  = 64
	fallbackName   = "client"
)

// CognitoClientName maps an RFC 7591 §2 client_name into Cognito's app
// client name syntax [\w\s+=,.@-]{1,128}, conservatively read as ASCII:
// letters, digits, '_', space and "+=,.@-". Every other rune (including
// non-ASCII letters, since whether Cognito's \w is Unicode-aware is not
// documented) becomes a space; runs of spaces collapse to one; the result is
// trimmed, given prefix, and cut to 128 characters. An empty result becomes
// prefix+"client" ("mcp-client" with the default prefix, and also when the
// prefix itself is empty). The mapping is lossy and NOT unique: two clients
// may get the same Cognito name (Cognito allows that).
func CognitoClientName(prefix, clientName string) string {
	var b strings.Builder
	space := false
	for _, r := range clientName {
		if r > unicode.MaxASCII || !cognitoNameByte(byte(r)) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	body := b.String()
	if body == "" {
		body = fallbackName
		if prefix == "" {
			prefix = DefaultClientNamePrefix
		}
	}
	name := prefix + body
	if len(name) > maxCognitoName {
		name = strings.TrimRight(name[:maxCognitoName], " ")
	}
	return name
}

// cognitoNameChars reports whether every byte of s is allowed in a Cognito
// app client name (the ASCII reading of [\w\s+=,.@-]).
func cognitoNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !cognitoNameByte(s[i]) {
			return false
		}
	}
	return true
}

func cognitoNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("_ +=,.@-", c) >= 0
}
