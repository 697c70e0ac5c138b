package dcr_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// cognitoNamePattern is Cognito's ClientName pattern, ASCII reading.
var cognitoNamePattern = regexp.MustCompile(`^[\w\s+=,.@-]{1,128}$`)

func TestCognitoClientName(t *testing.T) {
	long := strings.Repeat("abcdefghij", 20)
	tests := []struct{ prefix, in, want string }{
		{"mcp-", "Claude Code", "mcp-Claude Code"},
		{"mcp-", "Claude Code (laptop)", "mcp-Claude Code laptop"},
		{"mcp-", "  spaces\t\tand\nnewlines  ", "mcp-spaces and newlines"},
		{"mcp-", "user@example.com+tag=1,2.3_x-y", "mcp-user@example.com+tag=1,2.3_x-y"},
		{"mcp-", "Café Zürich", "mcp-Caf Z rich"},
		{"mcp-", "日本語", "mcp-client"},
		{"mcp-", "", "mcp-client"},
		{"mcp-", "<script>alert(1)</script>", "mcp-script alert 1 script"},
		{"mcp-", "a/b\\c\"d'e", "mcp-a b c d e"},
		{"", "Cursor", "Cursor"},
		{"", "!!!", "mcp-client"},
		{"x ", "VS Code", "x VS Code"},
		{"mcp-", long, ("mcp-" + long)[:128]},
		{"mcp-", strings.Repeat("a", 123) + " bcdef", "mcp-" + strings.Repeat("a", 123)}, // cut at 128 and trimmed
		{"mcp-", "emoji 🚀 rocket", "mcp-emoji rocket"},
	}
	for _, tt := range tests {
		got := dcr.CognitoClientName(tt.prefix, tt.in)
		if got != tt.want {
			t.Errorf("CognitoClientName(%q, %q) = %q, want %q", tt.prefix, tt.in, got, tt.want)
		}
		if !cognitoNamePattern.MatchString(got) || !utf8.ValidString(got) {
			t.Errorf("CognitoClientName(%q, %q) = %q: not a valid Cognito name", tt.prefix, tt.in, got)
		}
	}
}

func FuzzCognitoClientName(f *testing.F) {
	for _, s := range []string{"", "Claude", "日本", "\x00\xff", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got := dcr.CognitoClientName(dcr.DefaultClientNamePrefix, in); !cognitoNamePattern.MatchString(got) {
			t.Fatalf("CognitoClientName(%q) = %q", in, got)
		}
	})
}
