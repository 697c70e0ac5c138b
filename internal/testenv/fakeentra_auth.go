package testenv

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// authenticate finds and authenticates the calling app (step 4 and 5).
func (f *FakeEntra) authenticate(r *http.Request, form url.Values) (*EntraApp, string, *entraErr) {
	clientID := form.Get("client_id")
	basicUser, basicPass, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: the Basic credentials are form-urlencoded first.
		u, err1 := url.QueryUnescape(basicUser)
		p, err2 := url.QueryUnescape(basicPass)
		if err1 != nil || err2 != nil || (clientID != "" && clientID != u) {
			return nil, "client_secret_basic", entraBadRequest("invalid_request", 90023, "The authentication service request isn't valid: malformed Basic credentials or a client_id that differs from them.")
		}
		clientID, basicPass = u, p
	}
	var methods []string
	if basic {
		methods = append(methods, "client_secret_basic")
	}
	if form.Has("client_secret") {
		methods = append(methods, "client_secret_post")
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		methods = append(methods, "private_key_jwt")
	}
	method := strings.Join(methods, "+")
	if clientID == "" {
		return nil, method, entraMissingParam("client_id")
	}
	app := f.apps[clientID]
	if app == nil {
		return nil, method, entraBadRequest("unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, f.tenant)
	}
	switch len(methods) {
	case 0:
		return nil, method, entraInvalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case 1:
	default:
		return nil, method, entraBadRequest("invalid_request", 90023, "The authentication service request isn't valid: more than one client authentication method (%s).", method)
	}
	switch method {
	case "client_secret_basic", "client_secret_post":
		secret := basicPass
		if method == "client_secret_post" {
			secret = form.Get("client_secret")
		}
		if app.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
			return nil, method, entraInvalidClient(7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.ClientID)
		}
		return app, method, nil
	default:
		return app, method, f.checkClientAssertion(app, form)
	}
}

// entraClaims are the claims the fake reads from assertions.
type entraClaims struct {
	Iss               string        `json:"iss"`
	Sub               string        `json:"sub"`
	Aud               entraAudience `json:"aud"`
	Exp               *float64      `json:"exp"`
	Nbf               *float64      `json:"nbf"`
	OID               string        `json:"oid"`
	Scp               string        `json:"scp"`
	Name              string        `json:"name"`
	PreferredUsername string        `json:"preferred_username"`
}

// entraAudience is "aud", a string or an array of strings (RFC 7519 §4.1.3).
type entraAudience []string

func (a *entraAudience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = entraAudience{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("aud is neither a string nor an array of strings")
	}
	*a = ss
	return nil
}

func entraTime(v *float64) time.Time { return time.Unix(int64(*v), 0).UTC() }

// checkClientAssertion is step 5.
func (f *FakeEntra) checkClientAssertion(app *EntraApp, form url.Values) *entraErr {
	switch typ := form.Get("client_assertion_type"); {
	case typ == "":
		return entraMissingParam("client_assertion_type")
	case typ != EntraClientAssertionType:
		return entraInvalidClient(50027, "JWT token is invalid or malformed: client_assertion_type must be '%s'.", EntraClientAssertionType)
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return entraMissingParam("client_assertion")
	}
	msg, err := jws.Parse([]byte(raw))
	if err != nil || len(msg.Signatures()) != 1 {
		return entraInvalidClient(50027, "JWT token is invalid or malformed.")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	alg := hdr.Algorithm()
	if alg != jwa.RS256 && alg != jwa.PS256 {
		return entraInvalidClient(50027, "JWT token is invalid or malformed: alg '%s' is not RS256 or PS256.", alg)
	}
	cert := entraFindCert(app.Certificates, hdr.X509CertThumbprintS256(), hdr.X509CertThumbprint())
	if cert == nil {
		return entraInvalidClient(700027, "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s%s']", hdr.X509CertThumbprintS256(), hdr.X509CertThumbprint())
	}
	payload, err := jws.Verify([]byte(raw), jws.WithKey(alg, cert.PublicKey))
	if err != nil {
		return entraInvalidClient(700027, "Client assertion failed signature validation.")
	}
	var c entraClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return entraInvalidClient(50027, "JWT token is invalid or malformed: %v.", err)
	}
	now := f.now()
	switch {
	case c.Iss != app.ClientID:
		return entraInvalidClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
	case c.Sub != c.Iss:
		return entraInvalidClient(50048, "Subject mismatches Issuer claim in the client assertion.")
	case !slices.Contains(c.Aud, f.TokenEndpoint()):
		return entraInvalidClient(50027, "JWT token is invalid or malformed: unexpected audience %q, expected '%s'.", []string(c.Aud), f.TokenEndpoint())
	case c.Exp == nil:
		return entraInvalidClient(50027, "JWT token is invalid or malformed: no exp.")
	case !now.Before(entraTime(c.Exp)) || (c.Nbf != nil && now.Before(entraTime(c.Nbf))):
		return entraInvalidClient(700024, "Client assertion is not within its valid time range. Current time: %s, expiry time of assertion %s.", now.UTC().Format(time.RFC3339), entraTime(c.Exp).Format(time.RFC3339))
	}
	return nil
}

// entraFindCert returns the registered certificate with SHA-256 thumbprint
// s256, or else SHA-1 thumbprint s1 ("" matches nothing).
func entraFindCert(certs []*x509.Certificate, s256, s1 string) *x509.Certificate {
	for _, c := range certs {
		t1, t256 := entraThumbprints(c)
		if (s256 != "" && s256 == t256) || (s256 == "" && s1 != "" && s1 == t1) {
			return c
		}
	}
	return nil
}

// checkUserAssertion is step 6.
func (f *FakeEntra) checkUserAssertion(app *EntraApp, raw string) (*entraClaims, *entraErr) {
	if raw == "" {
		return nil, entraMissingParam("assertion")
	}
	invalid := func(format string, a ...any) *entraErr { return entraBadRequest("invalid_grant", 50013, format, a...) }
	payload, err := jws.Verify([]byte(raw), jws.WithKey(jwa.RS256, &f.key.PublicKey))
	if err != nil {
		return nil, invalid("Assertion failed signature validation. [Reason - The key was not found.]")
	}
	var c entraClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid("Assertion is invalid: malformed claims (%v).", err)
	}
	now := f.now()
	switch {
	case c.Iss != f.Issuer():
		return nil, invalid("Assertion is invalid: issuer '%s' is not '%s'.", c.Iss, f.Issuer())
	case c.OID == "":
		return nil, invalid("Assertion is invalid: no oid claim.")
	case c.Exp == nil || !now.Before(entraTime(c.Exp)) || (c.Nbf != nil && now.Before(entraTime(c.Nbf))):
		exp := "none"
		if c.Exp != nil {
			exp = entraTime(c.Exp).Format(time.RFC3339)
		}
		return nil, entraBadRequest("invalid_grant", 500133, "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: %s, expiry time of assertion %s.", now.UTC().Format(time.RFC3339), exp)
	case !slices.ContainsFunc(c.Aud, func(a string) bool { return a == app.ClientID || slices.Contains(app.IdentifierURIs, a) }):
		return nil, invalid("Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '%s' and the expected audience is '%s' or one of the Application Uris of this application with App ID '%s'(%s). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.", strings.Join(c.Aud, " "), app.ClientID, app.ClientID, app.Name)
	case strings.TrimSpace(c.Scp) == "":
		return nil, entraBadRequest("invalid_grant", 7000114, "Application '%s' is not allowed to make application on-behalf-of calls.", app.ClientID)
	}
	return &c, nil
}
