package testenv_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"golang.org/x/oauth2"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

func TestFakeEntraOBORefusals(t *testing.T) {
	fx := startEntra(t, nil)
	f := fx.f
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	x5tS := map[string]string{jws.X509CertThumbprintS256Key: fx.cred.X5TS256}
	withParams := func(base func() oboRequest, kv ...string) func() oboRequest {
		return func() oboRequest {
			r := base()
			for i := 0; i < len(kv); i += 2 {
				r.params[kv[i]] = kv[i+1]
			}
			return r
		}
	}
	secret := func() oboRequest { return fx.secretRequest(t, userOID) }
	cert := func() oboRequest { return fx.certRequest(t, userOID) }
	assertion := func(mutate map[string]any) string { return fx.assertionJWT(t, jwa.PS256, fx.cred.Key, x5tS, mutate) }
	mint := func(o testenv.EntraUserTokenOptions) string {
		if o.OID == "" {
			o.OID = userOID
		}
		if o.Audience == "" {
			o.Audience = gwID
		}
		return f.MintUserToken(t, o)
	}
	const consentOID, mfaOID = "1a2b3c4d-0000-4000-8000-00000000c001", "1a2b3c4d-0000-4000-8000-00000000c002"
	tests := []struct {
		name     string
		req      func() oboRequest
		status   int
		errCode  string
		aadsts   int
		suberror string
		claims   bool
	}{
		{"grant_type missing", withParams(secret, "grant_type", ""), 400, "invalid_request", 900144, "", false},
		{"grant_type not jwt-bearer", withParams(secret, "grant_type", "client_credentials"), 400, "unsupported_grant_type", 70003, "", false},
		{"requested_token_use missing", withParams(secret, "requested_token_use", ""), 400, "invalid_request", 900144, "", false},
		{"requested_token_use wrong", withParams(secret, "requested_token_use", "logon_cert"), 400, "invalid_request", 90100, "", false},
		{"client_id missing", func() oboRequest { r := secret(); r.clientID = ""; return r }, 400, "invalid_request", 900144, "", false},
		{"client unknown", func() oboRequest { r := secret(); r.clientID = "0000aaaa-0000-4000-8000-000000000000"; return r }, 400, "unauthorized_client", 700016, "", false},
		{"no client credential", func() oboRequest { r := secret(); r.secret = ""; return r }, 401, "invalid_client", 7000218, "", false},
		{"wrong secret in body", func() oboRequest { r := secret(); r.secret = "nope"; return r }, 401, "invalid_client", 7000215, "", false},
		{"wrong secret in Basic", func() oboRequest { r := secret(); r.secret, r.style = "nope", oauth2.AuthStyleInHeader; return r }, 401, "invalid_client", 7000215, "", false},
		{"secret for an app without one", func() oboRequest { r := secret(); r.clientID = ticketsID; return r }, 401, "invalid_client", 7000215, "", false},
		{"Basic and body secret", func() oboRequest {
			r := withParams(secret, "client_secret", gwSecret)()
			r.style = oauth2.AuthStyleInHeader
			return r
		}, 400, "invalid_request", 90023, "", false},
		{"client_assertion_type missing", withParams(cert, "client_assertion_type", ""), 400, "invalid_request", 900144, "", false},
		{"client_assertion_type wrong", withParams(cert, "client_assertion_type", "urn:x"), 401, "invalid_client", 50027, "", false},
		{"client_assertion missing", withParams(cert, "client_assertion", ""), 400, "invalid_request", 900144, "", false},
		{"client_assertion malformed", withParams(cert, "client_assertion", "not.a.jwt"), 401, "invalid_client", 50027, "", false},
		{"client_assertion HS256", func() oboRequest {
			return withParams(cert, "client_assertion", fx.assertionJWT(t, jwa.HS256, []byte(gwSecret), x5tS, nil))()
		}, 401, "invalid_client", 50027, "", false},
		{"client_assertion unregistered certificate", func() oboRequest {
			return withParams(cert, "client_assertion", fx.assertionJWT(t, jwa.PS256, fx.other.Key, map[string]string{jws.X509CertThumbprintS256Key: fx.other.X5TS256}, nil))()
		}, 401, "invalid_client", 700027, "", false},
		{"client_assertion without thumbprint", func() oboRequest {
			return withParams(cert, "client_assertion", fx.assertionJWT(t, jwa.PS256, fx.cred.Key, nil, nil))()
		}, 401, "invalid_client", 700027, "", false},
		{"client_assertion signed by another key", func() oboRequest {
			return withParams(cert, "client_assertion", fx.assertionJWT(t, jwa.PS256, rogue, x5tS, nil))()
		}, 401, "invalid_client", 700027, "", false},
		{"client_assertion iss is not client_id", func() oboRequest {
			return withParams(cert, "client_assertion", assertion(map[string]any{"iss": ticketsID, "sub": ticketsID}))()
		}, 401, "invalid_client", 700021, "", false},
		{"client_assertion sub differs from iss", func() oboRequest {
			return withParams(cert, "client_assertion", assertion(map[string]any{"sub": ticketsID}))()
		}, 401, "invalid_client", 50048, "", false},
		{"client_assertion aud is the issuer", func() oboRequest {
			return withParams(cert, "client_assertion", assertion(map[string]any{"aud": f.Issuer()}))()
		}, 401, "invalid_client", 50027, "", false},
		{"client_assertion without exp", func() oboRequest {
			return withParams(cert, "client_assertion", assertion(map[string]any{"exp": nil}))()
		}, 401, "invalid_client", 50027, "", false},
		{"client_assertion expired", func() oboRequest {
			return withParams(cert, "client_assertion", assertion(map[string]any{"exp": time.Now().Add(-time.Second).Unix()}))()
		}, 401, "invalid_client", 700024, "", false},
		{"client_assertion not yet valid", func() oboRequest {
			return withParams(cert, "client_assertion", assertion(map[string]any{"nbf": time.Now().Add(time.Minute).Unix()}))()
		}, 401, "invalid_client", 700024, "", false},
		{"assertion missing", withParams(secret, "assertion", ""), 400, "invalid_request", 900144, "", false},
		{"assertion not a JWT", withParams(secret, "assertion", "opaque"), 400, "invalid_grant", 50013, "", false},
		{"assertion signed by another key", func() oboRequest {
			forged := fx.assertionJWT(t, jwa.RS256, rogue, nil, map[string]any{"iss": f.Issuer(), "aud": gwID, "oid": userOID, "scp": "access_as_user"})
			return withParams(secret, "assertion", forged)()
		}, 400, "invalid_grant", 50013, "", false},
		{"assertion of another issuer", func() oboRequest {
			return withParams(secret, "assertion", mint(testenv.EntraUserTokenOptions{Claims: map[string]any{"iss": "https://sts.windows.net/x/"}}))()
		}, 400, "invalid_grant", 50013, "", false},
		{"assertion expired", func() oboRequest {
			return withParams(secret, "assertion", mint(testenv.EntraUserTokenOptions{TTL: -time.Second}))()
		}, 400, "invalid_grant", 500133, "", false},
		{"assertion for another app", func() oboRequest {
			return withParams(secret, "assertion", mint(testenv.EntraUserTokenOptions{Audience: ticketsID}))()
		}, 400, "invalid_grant", 50013, "", false},
		{"assertion without oid", func() oboRequest {
			return withParams(secret, "assertion", mint(testenv.EntraUserTokenOptions{Claims: map[string]any{"oid": nil}}))()
		}, 400, "invalid_grant", 50013, "", false},
		{"assertion app-only (no scp)", func() oboRequest {
			return withParams(secret, "assertion", mint(testenv.EntraUserTokenOptions{Claims: map[string]any{"scp": nil, "roles": []string{"Tickets.All"}}}))()
		}, 400, "invalid_grant", 7000114, "", false},
		{"scope missing", withParams(secret, "scope", ""), 400, "invalid_request", 900144, "", false},
		{"scope unknown resource", withParams(secret, "scope", "api://nope/.default"), 400, "invalid_resource", 500011, "", false},
		{"scope two resources", withParams(secret, "scope", "api://tickets/Read api://crm/Read"), 400, "invalid_scope", 700022, "", false},
		{"scope unknown permission", withParams(secret, "scope", "api://tickets/Delete"), 400, "invalid_scope", 70011, "", false},
		{"scope .default mixed", withParams(secret, "scope", "api://tickets/.default api://tickets/Read"), 400, "invalid_scope", 70011, "", false},
		{"scope OIDC only", withParams(secret, "scope", "openid offline_access"), 400, "invalid_scope", 70011, "", false},
		{"scope without resource", withParams(secret, "scope", "Read"), 400, "invalid_scope", 70011, "", false},
		{"resource exposes no permission", withParams(secret, "scope", "api://bare/.default"), 400, "invalid_grant", 65001, "", false},
		{"user refused: consent", func() oboRequest {
			f.RefuseUser(consentOID, testenv.EntraConsentRequired())
			return fx.secretRequest(t, consentOID)
		}, 400, "invalid_grant", 65001, "consent_required", false},
		{"user refused: MFA, with certificate", func() oboRequest {
			f.RefuseUser(mfaOID, testenv.EntraMFARequired())
			return fx.certRequest(t, mfaOID)
		}, 400, "interaction_required", 50079, "", true},
		{"everyone refused: custom 503", func() oboRequest {
			f.RefuseAll(testenv.EntraRefusal{Status: 503, Error: "temporarily_unavailable", Code: 90006, Description: "The service is temporarily unavailable."})
			return secret()
		}, 503, "temporarily_unavailable", 90006, "", false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(f.ClearRefusals)
			_, err := fx.exchange(context.Background(), tc.req())
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want *oauth2.RetrieveError", err)
			}
			if re.Response.StatusCode != tc.status || re.ErrorCode != tc.errCode {
				t.Errorf("status %d error %q, want %d %q (%s)", re.Response.StatusCode, re.ErrorCode, tc.status, tc.errCode, re.ErrorDescription)
			}
			var body entraErrorBody
			if err := json.Unmarshal(re.Body, &body); err != nil {
				t.Fatal(err)
			}
			if len(body.ErrorCodes) != 1 || body.ErrorCodes[0] != tc.aadsts ||
				!strings.HasPrefix(body.ErrorDescription, fmt.Sprintf("AADSTS%d: ", tc.aadsts)) ||
				!strings.Contains(body.ErrorDescription, "\r\nTrace ID: "+body.TraceID+"\r\nCorrelation ID: "+body.CorrelationID+"\r\nTimestamp: "+body.Timestamp) ||
				body.TraceID == "" || body.CorrelationID == "" || !strings.HasSuffix(body.ErrorURI, fmt.Sprintf("/error?code=%d", tc.aadsts)) {
				t.Errorf("body = %s", re.Body)
			}
			if _, err := time.Parse("2006-01-02 15:04:05Z", body.Timestamp); err != nil {
				t.Errorf("timestamp: %v", err)
			}
			if body.SubError != tc.suberror || (body.Claims != "") != tc.claims || (tc.claims && !json.Valid([]byte(body.Claims))) {
				t.Errorf("suberror %q claims %q", body.SubError, body.Claims)
			}
			recs := f.TokenRequests()
			if rec := recs[len(recs)-1]; len(recs) != i+1 || rec.Status != tc.status || rec.Error != tc.errCode || rec.Code != tc.aadsts {
				t.Errorf("%d records, last %+v", len(recs), rec)
			}
		})
	}
}

// entraErrorBody is Microsoft's documented token-endpoint error body.
type entraErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
	SubError         string `json:"suberror"`
	Claims           string `json:"claims"`
}
