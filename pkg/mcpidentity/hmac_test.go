package mcpidentity

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestHMACRoundTrip(t *testing.T) {
	h := signedHMAC(t, testIdentity())
	v, err := NewHMACVerifier(testKey, testAudience, clockAt(t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(h)
	if err != nil {
		t.Fatal(err)
	}
	want := testIdentity()
	want.Audience = testAudience
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	if !got.HasScope("files:read") || got.HasScope("files") {
		t.Error("HasScope")
	}
}

func TestHMACGoldenCanonicalString(t *testing.T) {
	id := testIdentity()
	h := signedHMAC(t, id)
	vals := make([]string, 8)
	for i, name := range hmacHeaders[:8] {
		vals[i] = h.Get(name)
	}
	golden(t, "canonical_v1.golden", CanonicalString(vals...))
	var b strings.Builder
	for _, name := range hmacHeaders {
		b.WriteString(name + ": " + h.Get(name) + "\n")
	}
	golden(t, "headers_v1.golden", b.String())
}

func TestHMACOptionalHeadersOmitted(t *testing.T) {
	id := testIdentity()
	id.ClientID, id.Scopes = "", nil
	h := signedHMAC(t, id)
	if _, ok := h[HeaderClientID]; ok {
		t.Error("empty client id sent")
	}
	if _, ok := h[HeaderScopes]; ok {
		t.Error("empty scopes sent")
	}
	v, _ := NewHMACVerifier(testKey, testAudience, clockAt(t0))
	got, err := v.Verify(h)
	if err != nil || got.ClientID != "" || got.Scopes != nil {
		t.Fatalf("got %+v, %v", got, err)
	}
	// Present but empty means the same thing.
	h.Set(HeaderScopes, "")
	if _, err := v.Verify(h); err != nil {
		t.Fatal(err)
	}
	// Adding a value to an omitted header breaks the signature.
	h.Set(HeaderClientID, "other")
	if _, err := v.Verify(h); !errors.Is(err, ErrInvalid) {
		t.Fatalf("added client id: %v", err)
	}
}

func TestHMACVerifyRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(h http.Header)
		opts   []VerifierOption
		key    []byte
		aud    string
		want   error
	}{
		{name: "no headers", mutate: func(h http.Header) { StripHeaders(h) }, want: ErrMissing},
		{name: "missing signature", mutate: func(h http.Header) { h.Del(HeaderSignature) }, want: ErrInvalid},
		{name: "missing subject", mutate: func(h http.Header) { h.Del(HeaderSubject) }, want: ErrInvalid},
		{name: "missing nonce", mutate: func(h http.Header) { h.Del(HeaderNonce) }, want: ErrInvalid},
		{name: "missing audience", mutate: func(h http.Header) { h.Del(HeaderAudience) }, want: ErrInvalid},
		{name: "removed client id", mutate: func(h http.Header) { h.Del(HeaderClientID) }, want: ErrInvalid},
		{name: "removed scopes", mutate: func(h http.Header) { h.Del(HeaderScopes) }, want: ErrInvalid},
		{name: "subject and client id swapped", mutate: func(h http.Header) {
			s, c := h.Get(HeaderSubject), h.Get(HeaderClientID)
			h.Set(HeaderSubject, c)
			h.Set(HeaderClientID, s)
		}, want: ErrInvalid},
		{name: "scopes reordered", mutate: func(h http.Header) { h.Set(HeaderScopes, "files:read mcp:tools") }, want: ErrInvalid},
		{name: "scope added", mutate: func(h http.Header) { h.Set(HeaderScopes, h.Get(HeaderScopes)+" admin") }, want: ErrInvalid},
		{name: "duplicate subject", mutate: func(h http.Header) { h.Add(HeaderSubject, "user-123") }, want: ErrInvalid},
		{name: "duplicate signature", mutate: func(h http.Header) { h.Add(HeaderSignature, h.Get(HeaderSignature)) }, want: ErrInvalid},
		{name: "duplicate via non-canonical case", mutate: func(h http.Header) {
			h["mcp-gateway-subject"] = []string{"admin"}
		}, want: ErrInvalid},
		{name: "only non-canonical case", mutate: func(h http.Header) {
			h["MCP-GATEWAY-SUBJECT"] = h[HeaderSubject]
			delete(h, HeaderSubject)
		}},
		{name: "unknown header in namespace", mutate: func(h http.Header) { h.Set("Mcp-Gateway-Role", "admin") }, want: ErrInvalid},
		{name: "jws header in hmac mode", mutate: func(h http.Header) { h.Set(HeaderIdentity, "a.b.c") }, want: ErrInvalid},
		{name: "signature without prefix", mutate: func(h http.Header) {
			h.Set(HeaderSignature, strings.TrimPrefix(h.Get(HeaderSignature), "v1="))
		}, want: ErrInvalid},
		{name: "signature version 2", mutate: func(h http.Header) {
			h.Set(HeaderSignature, "v2="+strings.TrimPrefix(h.Get(HeaderSignature), "v1="))
		}, want: ErrInvalid},
		{name: "signature padded", mutate: func(h http.Header) { h.Set(HeaderSignature, h.Get(HeaderSignature)+"=") }, want: ErrInvalid},
		{name: "signature truncated", mutate: func(h http.Header) {
			s := h.Get(HeaderSignature)
			h.Set(HeaderSignature, s[:len(s)-4])
		}, want: ErrInvalid},
		{name: "issued with plus sign", mutate: func(h http.Header) { h.Set(HeaderIssued, "+"+h.Get(HeaderIssued)) }, want: ErrInvalid},
		{name: "huge header", mutate: func(h http.Header) { h.Set(HeaderSubject, strings.Repeat("a", maxHeaderBytes+1)) }, want: ErrInvalid},
		{name: "wrong key", key: []byte("another-key-another-key-another-key!"), want: ErrInvalid},
		{name: "wrong audience", aud: "https://other.internal/mcp", want: ErrInvalid},
		{name: "expired", opts: []VerifierOption{clockAt(t0.Add(2*time.Minute + DefaultLeeway + time.Second))}, want: ErrExpired},
		{name: "expired within leeway", opts: []VerifierOption{clockAt(t0.Add(2*time.Minute + DefaultLeeway))}},
		{name: "expired, no leeway", opts: []VerifierOption{WithLeeway(0), clockAt(t0.Add(2*time.Minute + time.Second))}, want: ErrExpired},
		{name: "issued in the future", opts: []VerifierOption{clockAt(t0.Add(-DefaultLeeway - time.Second))}, want: ErrInvalid},
		{name: "future within leeway", opts: []VerifierOption{clockAt(t0.Add(-DefaultLeeway))}},
		{name: "older than max age", opts: []VerifierOption{WithMaxAge(time.Minute), clockAt(t0.Add(time.Minute + DefaultLeeway + time.Second))}, want: ErrExpired},
		{name: "replayed", opts: []VerifierOption{clockAt(t0), WithReplayCheck(func(string, time.Time) bool { return false })}, want: ErrReplayed},
	}
	for _, name := range hmacHeaders {
		tests = append(tests, struct {
			name   string
			mutate func(h http.Header)
			opts   []VerifierOption
			key    []byte
			aud    string
			want   error
		}{name: "tampered " + name, mutate: func(h http.Header) {
			v := []byte(h.Get(name))
			v[len(v)-1] ^= 1 // keep it printable: flips between neighbours
			h.Set(name, string(v))
		}, want: ErrInvalid})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := signedHMAC(t, testIdentity())
			if tt.mutate != nil {
				tt.mutate(h)
			}
			key, aud := testKey, testAudience
			if tt.key != nil {
				key = tt.key
			}
			if tt.aud != "" {
				aud = tt.aud
			}
			v, err := NewHMACVerifier(key, aud, append([]VerifierOption{clockAt(t0.Add(time.Minute))}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			id, err := v.Verify(h)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || id != nil {
				t.Fatalf("got %v, %v; want %v", id, err, tt.want)
			}
		})
	}
}

func TestHMACSignRefusesUnencodable(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(id *Identity)
	}{
		{"newline in subject", func(id *Identity) { id.Subject = "alice\r\nMcp-Gateway-Scopes: admin" }},
		{"NUL in issuer", func(id *Identity) { id.Issuer = "https://idp\x00" }},
		{"non-ASCII subject", func(id *Identity) { id.Subject = "jos\u00e9" }},
		{"trailing space", func(id *Identity) { id.ClientID = "abc " }},
		{"space in scope", func(id *Identity) { id.Scopes = []string{"a b"} }},
		{"empty scope", func(id *Identity) { id.Scopes = []string{"a", ""} }},
		{"quote in scope", func(id *Identity) { id.Scopes = []string{`a"`} }},
		{"no subject", func(id *Identity) { id.Subject = "" }},
		{"no expiry", func(id *Identity) { id.Expires = time.Time{} }},
	}
	s, _ := NewHMACSigner(testKey, testAudience)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := testIdentity()
			tt.mutate(&id)
			h := http.Header{HeaderSubject: {"forged"}}
			if err := s.Sign(h, id); !errors.Is(err, ErrUnencodable) {
				t.Fatalf("err = %v", err)
			}
			if len(ourHeaders(h)) != 0 {
				t.Errorf("identity headers left behind: %v", h)
			}
		})
	}
}

func TestHMACSignAcceptsCommasAndPunctuation(t *testing.T) {
	id := testIdentity()
	id.Subject = `auth0|a,b;c="d"`
	id.ClientID = "x, y"
	h := signedHMAC(t, id)
	v, _ := NewHMACVerifier(testKey, testAudience, clockAt(t0))
	got, err := v.Verify(h)
	if err != nil || got.Subject != id.Subject || got.ClientID != id.ClientID {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestHMACSignReplacesExistingAndCaps(t *testing.T) {
	s, _ := NewHMACSigner(testKey, testAudience)
	s.now = func() time.Time { return t0 }
	h := http.Header{"Mcp-Gateway-Subject": {"forged"}, "mcp-gateway-role": {"admin"}, "Other": {"kept"}}
	id := testIdentity()
	id.Issued, id.ID, id.Audience = time.Time{}, "", "https://ignored"
	id.Expires = t0.Add(time.Hour)
	if err := s.Sign(h, id); err != nil {
		t.Fatal(err)
	}
	if h.Get("Other") != "kept" || len(h.Values(HeaderSubject)) != 1 || h.Get(HeaderSubject) != "user-123" || h["mcp-gateway-role"] != nil {
		t.Fatalf("headers: %v", h)
	}
	v, _ := NewHMACVerifier(testKey, testAudience, clockAt(t0))
	got, err := v.Verify(h)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Issued.Equal(t0) || !got.Expires.Equal(t0.Add(DefaultMaxAge)) || len(got.ID) != 22 || got.Audience != testAudience {
		t.Errorf("got %+v", got)
	}
	h2 := http.Header{}
	_ = s.Sign(h2, id)
	if h2.Get(HeaderNonce) == h.Get(HeaderNonce) {
		t.Error("nonce reused")
	}
}

func TestHMACKeyRotationAndReplayStore(t *testing.T) {
	old := []byte("the-previous-key-the-previous-key-")
	s, _ := NewHMACSigner(old, testAudience)
	h := http.Header{}
	id := testIdentity()
	id.ID = ""
	if err := s.Sign(h, id); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	v, _ := NewHMACVerifier(testKey, testAudience, clockAt(t0), WithPreviousHMACKeys(old, []byte("short")),
		WithReplayCheck(func(id string, forget time.Time) bool {
			if !forget.Equal(t0.Add(2*time.Minute + DefaultLeeway)) {
				t.Errorf("forget at %v", forget)
			}
			first := !seen[id]
			seen[id] = true
			return first
		}))
	if _, err := v.Verify(h); err != nil {
		t.Fatalf("previous key: %v", err)
	}
	if _, err := v.Verify(h); !errors.Is(err, ErrReplayed) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("replay: %v", err)
	}
}

func TestNewHMACRejectsShortKey(t *testing.T) {
	if _, err := NewHMACSigner(make([]byte, 31), testAudience); err == nil {
		t.Error("signer accepted a 31-byte key")
	}
	if _, err := NewHMACVerifier(make([]byte, 31), testAudience); err == nil {
		t.Error("verifier accepted a 31-byte key")
	}
	if _, err := NewHMACSigner(testKey, ""); err == nil {
		t.Error("signer accepted no audience")
	}
	if _, err := NewHMACVerifier(testKey, ""); err == nil {
		t.Error("verifier accepted no audience")
	}
}

func TestCanonicalStringUnambiguous(t *testing.T) {
	a := CanonicalString("ab", "c")
	b := CanonicalString("a", "bc")
	c := CanonicalString("a\n1:b", "")
	d := CanonicalString("a", "b", "")
	if a == b || c == d {
		t.Errorf("collision: %q %q %q %q", a, b, c, d)
	}
}
