package idp

import (
	"reflect"
	"testing"
)

func TestLookupAndNames(t *testing.T) {
	want := []string{"auth0", "cognito", "entra", "generic", "keycloak", "okta"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v", got)
	}
	for _, n := range want {
		p, ok := Lookup(n)
		if !ok || p.Name != n {
			t.Fatalf("Lookup(%q) = %+v, %v", n, p, ok)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		if len(p.ScopeClaims) == 0 || len(p.ClientIDClaims) == 0 || len(p.ForbiddenClaims) == 0 {
			t.Errorf("%s: incomplete profile %+v", n, p)
		}
		if p.MayOmitAudience != (n == "cognito") {
			t.Errorf("%s: MayOmitAudience = %v", n, p.MayOmitAudience)
		}
	}
	for _, n := range []string{"", "Cognito", "azure"} {
		if _, ok := Lookup(n); ok {
			t.Errorf("Lookup(%q) succeeded", n)
		}
	}
}

// Lookup must return copies: mutating one must not leak into the next.
func TestLookupReturnsCopies(t *testing.T) {
	a, _ := Lookup("cognito")
	a.RequiredClaims["token_use"] = "id"
	a.ScopeClaims[0] = "x"
	b, _ := Lookup("cognito")
	if b.RequiredClaims["token_use"] != "access" || b.ScopeClaims[0] != "scope" {
		t.Fatal("Lookup shares mutable state")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Profile
		ok   bool
	}{
		{"minimal", Profile{Name: "x"}, true},
		{"no_name", Profile{}, false},
		{"aud_optional_without_marker", Profile{Name: "x", MayOmitAudience: true, RequireClientID: true, ClientIDClaims: []string{"c"}}, false},
		{"aud_optional_without_client", Profile{Name: "x", MayOmitAudience: true, RequiredClaims: map[string]string{"t": "a"}}, false},
		{"require_client_without_claims", Profile{Name: "x", RequireClientID: true}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
	if (Profile{}).Subject() != "sub" || (Profile{SubjectClaim: "oid"}).Subject() != "oid" {
		t.Error("Subject default")
	}
}
