package authntest_test

import (
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// jwksOf fetches the issuer's JWKS.
func jwksOf(t *testing.T, iss *authntest.Issuer) jwk.Set {
	t.Helper()
	resp, err := http.Get(iss.JWKSURI())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatalf("JWKS: %v\n%s", err, body)
	}
	return set
}

// kids lists a set's key ids, sorted.
func kids(set jwk.Set) []string {
	var out []string
	for i := range set.Len() {
		k, _ := set.Key(i)
		out = append(out, k.KeyID())
	}
	slices.Sort(out)
	return out
}

// verifies reports whether the key kid of set verifies token (RS256).
func verifies(set jwk.Set, kid, token string) bool {
	k, ok := set.LookupKeyID(kid)
	if !ok {
		return false
	}
	_, err := jws.Verify([]byte(token), jws.WithKey(jwa.RS256, k))
	return err == nil
}

// TestRotationWithOverlap: RotateKeepingPrevious publishes a new signing
// key beside the previous one, Mint signs with the new one, a token signed
// with the previous key still verifies against the published set, and
// DropPrevious removes the previous key (Rotate, by contrast, replaces at
// once).
func TestRotationWithOverlap(t *testing.T) {
	iss := authntest.NewIssuer(t)
	oldKey, oldKID := iss.RSA()
	held := iss.Mint(iss.Claims("aud"), authntest.WithKey(oldKey), authntest.WithKID(oldKID))
	if got, want := kids(jwksOf(t, iss)), []string{"ec-1", "ed-1", oldKID}; !slices.Equal(got, want) {
		t.Fatalf("JWKS kids before = %v, want %v", got, want)
	}

	newKID := iss.RotateKeepingPrevious()
	if newKID == oldKID {
		t.Fatalf("new kid = old kid %q", newKID)
	}
	if _, kid := iss.RSA(); kid != newKID {
		t.Errorf("RSA() kid = %q, want the new %q", kid, newKID)
	}
	set := jwksOf(t, iss)
	if got, want := kids(set), []string{"ec-1", "ed-1", oldKID, newKID}; !slices.Equal(got, want) {
		t.Fatalf("JWKS kids during the overlap = %v, want %v", got, want)
	}
	fresh := iss.Mint(iss.Claims("aud"))
	if !verifies(set, newKID, fresh) {
		t.Error("a freshly minted token does not verify with the new key")
	}
	if !verifies(set, oldKID, held) {
		t.Error("a token signed with the previous key does not verify during the overlap")
	}

	iss.DropPrevious()
	set = jwksOf(t, iss)
	if got, want := kids(set), []string{"ec-1", "ed-1", newKID}; !slices.Equal(got, want) {
		t.Fatalf("JWKS kids after DropPrevious = %v, want %v", got, want)
	}
	if verifies(set, oldKID, held) {
		t.Error("the previous key is still published after DropPrevious")
	}

	third := iss.Rotate()
	if got, want := kids(jwksOf(t, iss)), []string{"ec-1", "ed-1", third}; !slices.Equal(got, want) {
		t.Errorf("JWKS kids after Rotate = %v, want %v", got, want)
	}
}
