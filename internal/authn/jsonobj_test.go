package authn

import (
	"encoding/json"
	"testing"
)

func TestDecodeSegment(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"eyJhIjoxfQ", true},
		{"eyJhIjoxfQ==", false},   // padding
		{"eyJhIjoxfQ\n", false},   // Go's decoder would skip the newline
		{"eyJh\r\nIjoxfQ", false}, // ditto
		{"eyJhIjox+Q", false},     // standard alphabet
		{"eyJhIjox/Q", false},
		{"eyJhIjoxfR", false}, // non-zero trailing bits (same bytes as ...fQ)
		{"e", false},
		{"", true},
	}
	for _, tt := range tests {
		if _, err := decodeSegment(tt.in); (err == nil) != tt.ok {
			t.Errorf("%q: err = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestDecodeObject(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{"a":1,"b":{"c":[1,2]}}`, true},
		{` {"a":1} `, true},
		{`{"a":{"x":1,"x":2}}`, true}, // nested duplicates are not checked
		{`{"a":1,"a":2}`, false},
		{`[{"a":1}]`, false},
		{`"eyJ.eyJ.sig"`, false},
		{`{"a":1}{"a":2}`, false},
		{`{"a":1}x`, false},
		{`{"a":1`, false},
		{`{"a" 1}`, false},
		{"{\"a\":\"\xff\"}", false},
		{``, false},
		{`null`, false},
		{`123`, false},
	}
	for _, tt := range tests {
		if _, err := decodeObject([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("%q: err = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
	obj, _ := decodeObject([]byte(`{"exp":12345678901234567890}`))
	if _, ok := obj["exp"].(json.Number); !ok {
		t.Errorf("numbers must decode as json.Number, got %T", obj["exp"])
	}
}

func TestDiscoveryURLs(t *testing.T) {
	tests := []struct {
		issuer, configured string
		want               []string
	}{
		{"https://idp.example", "", []string{"https://idp.example/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server"}},
		{"https://idp.example/", "", []string{"https://idp.example/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server"}},
		{"https://idp.example/realms/acme", "", []string{"https://idp.example/realms/acme/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server/realms/acme"}},
		{"https://idp.example/x", "https://meta.example/m.json", []string{"https://meta.example/m.json"}},
	}
	for _, tt := range tests {
		got, err := discoveryURLs(tt.issuer, tt.configured)
		if err != nil || len(got) != len(tt.want) {
			t.Fatalf("%s: %v %v", tt.issuer, got, err)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: [%d] = %s, want %s", tt.issuer, i, got[i], tt.want[i])
			}
		}
	}
}
