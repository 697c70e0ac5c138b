package dcr

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Registration sources (Registration.Source).
const (
	SourceDCR  = "dcr"
	SourceCIMD = "cimd"
)

// TokenHash is how a registration access token (RFC 7592 §3) is stored:
// hex-encoded SHA-256. The token is 256 random bits, so an unsalted fast
// hash is enough: it cannot be guessed from the hash.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// dummyTokenHash is compared against when there is no stored hash, so that
// an unknown client costs the same as a wrong token.
var dummyTokenHash = TokenHash("no registration access token")

// tokenMatches compares the hash of presented with storedHash in constant
// time (crypto/subtle over two 64-byte hex strings). An empty storedHash
// (CIMD clients) never matches.
func tokenMatches(storedHash, presented string) bool {
	want := storedHash
	if want == "" {
		want = dummyTokenHash
	}
	ok := subtle.ConstantTimeCompare([]byte(TokenHash(presented)), []byte(want)) == 1
	return ok && storedHash != ""
}

// newRegistrationToken returns 32 random bytes, base64url without padding.
func newRegistrationToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// metadataHash is SHA-256 (hex) over the canonical JSON of normalized
// metadata, with redirect URIs in sorted order (their order means nothing to
// Cognito). Equal hashes mean identical registrations for reuse.
func metadataHash(md ClientMetadata) string {
	md.RedirectURIs = slices.Clone(md.RedirectURIs)
	slices.Sort(md.RedirectURIs)
	doc := struct {
		V  int            `json:"v"`
		MD ClientMetadata `json:"md"`
	}{1, md}
	b, _ := json.Marshal(doc) // cannot fail: strings and slices of strings
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// cimdKey is the MetadataHash of a CIMD-bridged client: it depends on the
// client_id URL only, so a changed document finds (and updates) its client.
func cimdKey(clientIDURL string) string {
	sum := sha256.Sum256([]byte("cimd\x00" + clientIDURL))
	return hex.EncodeToString(sum[:])
}
