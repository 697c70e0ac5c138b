package doctor

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/httpfetch"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// probeRedirectURI is the throwaway client's redirect URI: loopback, where
// nothing listens, so a code sent there goes nowhere.
const probeRedirectURI = "http://127.0.0.1/mcp-gateway-doctor-probe"

// maxForwards bounds how many authorization servers a probe follows when
// one forwards the request to another (mcp-dcr in front of Cognito).
const maxForwards = 3

// probeResponse is one answer, read whole (capped).
type probeResponse struct {
	status   int
	location string
	body     []byte
}

// oauthError is an RFC 6749 §5.2 error body or redirect.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e oauthError) String() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// noRedirects returns a copy of c that does not follow redirects.
func noRedirects(c *http.Client) *http.Client {
	cp := http.Client{Timeout: httpfetch.Timeout}
	if c != nil {
		cp = *c
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// send makes one request with the caller's context, the httpfetch timeout
// and the response cap; only http(s) URLs.
func send(ctx context.Context, c *http.Client, method, rawURL, contentType string, body []byte, header http.Header) (*probeResponse, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, httpfetch.ErrScheme
	}
	ctx, cancel := context.WithTimeout(ctx, httpfetch.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c == nil {
		c = &http.Client{Timeout: httpfetch.Timeout}
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxResponseBytes {
		return nil, httpfetch.ErrTooLarge
	}
	r := &probeResponse{status: resp.StatusCode, body: b}
	if loc := resp.Header.Get("Location"); loc != "" {
		if l, err := resp.Request.URL.Parse(loc); err == nil {
			r.location = l.String()
		}
	}
	return r, nil
}

// registerProbeClient registers a public client (RFC 7591 §3.1) that can
// only send users to a loopback address nobody listens on.
func registerProbeClient(ctx context.Context, c *http.Client, endpoint string) (*oauthmeta.ClientInformation, error) {
	body, _ := json.Marshal(oauthmeta.ClientMetadata{
		RedirectURIs: []string{probeRedirectURI}, TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
		ClientName: "mcp-gateway doctor resource probe (safe to delete)", ApplicationType: "native",
	})
	resp, err := send(ctx, c, http.MethodPost, endpoint, "application/json", body, nil)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusCreated && resp.status != http.StatusOK {
		var e oauthError
		_ = json.Unmarshal(resp.body, &e)
		return nil, fmt.Errorf("HTTP %d %s", resp.status, e)
	}
	var info oauthmeta.ClientInformation
	if err := json.Unmarshal(resp.body, &info); err != nil || info.ClientID == "" {
		return nil, errors.New("the registration response has no client_id")
	}
	return &info, nil
}

// deleteProbeClient deletes the throwaway client (RFC 7592 §2.3) when the
// server gave the means to.
func deleteProbeClient(ctx context.Context, c *http.Client, info *oauthmeta.ClientInformation) error {
	if info.RegistrationClientURI == "" || info.RegistrationAccessToken == "" {
		return errors.New("the server offers no RFC 7592 client management")
	}
	h := http.Header{"Authorization": {"Bearer " + info.RegistrationAccessToken}}
	resp, err := send(ctx, c, http.MethodDelete, info.RegistrationClientURI, "", nil, h)
	if err != nil {
		return err
	}
	if resp.status != http.StatusNoContent && resp.status != http.StatusOK {
		return fmt.Errorf("DELETE answered HTTP %d", resp.status)
	}
	return nil
}

// authzParams is an authorization request as an MCP client sends it:
// code flow, PKCE S256 (a fresh challenge whose verifier is thrown away),
// a random state, the route's scopes and resource.
func authzParams(clientID, redirectURI, resource string, scopes []string) url.Values {
	verifier := make([]byte, 32)
	state := make([]byte, 16)
	_, _ = rand.Read(verifier)
	_, _ = rand.Read(state)
	sum := sha256.Sum256([]byte(base64.RawURLEncoding.EncodeToString(verifier)))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"state":                 {base64.RawURLEncoding.EncodeToString(state)},
		"resource":              {resource},
	}
	if redirectURI != "" {
		q.Set("redirect_uri", redirectURI)
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	return q
}

// probeOutcome is what one probe showed for one resource.
type probeOutcome struct {
	outcome resourceOutcome
	detail  string
}

// probePAR pushes the request (RFC 9126 §2.1). ok is false when the
// endpoint did not judge the resource (a confidential client, or an
// endpoint that does not work): the caller then tries the authorization
// endpoint.
func probePAR(ctx context.Context, c *http.Client, endpoint string, q url.Values) (probeOutcome, bool) {
	resp, err := send(ctx, c, http.MethodPost, endpoint, "application/x-www-form-urlencoded", []byte(q.Encode()), nil)
	if err != nil {
		return probeOutcome{}, false
	}
	var e oauthError
	_ = json.Unmarshal(resp.body, &e)
	switch {
	case resp.status == http.StatusCreated || resp.status == http.StatusOK:
		return probeOutcome{resourceAccepted, "a pushed authorization request was accepted"}, true
	case e.Code == "invalid_target":
		return probeOutcome{resourceRefused, "a pushed authorization request was refused with " + e.String()}, true
	case e.Code == "" || e.Code == "invalid_client" || e.Code == "unauthorized_client":
		return probeOutcome{}, false
	}
	return probeOutcome{resourceInconclusive, fmt.Sprintf("a pushed authorization request was refused for another reason (HTTP %d %s)", resp.status, e)}, true
}

// probeAuthorize sends the request to the authorization endpoint without
// following the answer, except to another authorization server that the
// first forwards the request to.
func probeAuthorize(ctx context.Context, c *http.Client, endpoint, redirectURI string, q url.Values) probeOutcome {
	target := endpoint + "?" + q.Encode()
	if strings.Contains(endpoint, "?") {
		target = endpoint + "&" + q.Encode()
	}
	for hop := 0; ; hop++ {
		resp, err := send(ctx, c, http.MethodGet, target, "", nil, nil)
		if err != nil {
			return probeOutcome{resourceInconclusive, "the authorization request failed: " + err.Error()}
		}
		if resp.location == "" {
			return judgePage(resp)
		}
		loc, _ := url.Parse(resp.location)
		lq := loc.Query()
		if atRedirect(loc, redirectURI) || lq.Get("state") == q.Get("state") {
			// Back at the client: RFC 6749 §4.1.2 (code) or §4.1.2.1 (error).
			switch e := (oauthError{lq.Get("error"), lq.Get("error_description")}); {
			case e.Code == "invalid_target":
				return probeOutcome{resourceRefused, "the authorization request was answered with " + e.String()}
			case e.Code != "":
				return probeOutcome{resourceInconclusive, "the authorization request was refused for another reason (" + e.String() + ")"}
			case lq.Get("code") != "":
				return probeOutcome{resourceAccepted, "the authorization request was approved at once (a code was issued and left unused; it expires)"}
			}
		}
		if lq.Get("client_id") != "" && lq.Get("response_type") != "" && hop < maxForwards {
			if lq.Get("resource") == "" {
				return probeOutcome{resourceInconclusive, "the authorization request was forwarded to " + origin(loc) + " without resource: tokens from there will not be bound to this gateway"}
			}
			target = resp.location
			continue
		}
		return probeOutcome{resourceAccepted, "the authorization request went on to sign-in at " + origin(loc)}
	}
}

// judgePage reads an answer that is not a redirect.
func judgePage(resp *probeResponse) probeOutcome {
	var e oauthError
	_ = json.Unmarshal(resp.body, &e)
	switch {
	case e.Code == "invalid_target" || bytes.Contains(resp.body, []byte("invalid_target")):
		return probeOutcome{resourceRefused, fmt.Sprintf("the authorization request was refused (HTTP %d %s)", resp.status, cmpOr(e.String(), "invalid_target"))}
	case resp.status == http.StatusOK:
		return probeOutcome{resourceAccepted, "the authorization endpoint answered with a page (sign-in)"}
	case e.Code != "":
		return probeOutcome{resourceInconclusive, fmt.Sprintf("the authorization server refused the request before judging resource (HTTP %d %s): check the probe client id and redirect URI", resp.status, e)}
	}
	return probeOutcome{resourceInconclusive, fmt.Sprintf("the authorization server answered HTTP %d without an OAuth error, usually an unknown client or redirect URI judged before resource: check the probe client id and redirect URI", resp.status)}
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// atRedirect reports whether loc is the client's redirect URI (its query
// aside): the authorization server answered the client.
func atRedirect(loc *url.URL, redirectURI string) bool {
	r, err := url.Parse(redirectURI)
	if redirectURI == "" || err != nil {
		return false
	}
	return strings.EqualFold(loc.Scheme, r.Scheme) && strings.EqualFold(loc.Host, r.Host) && loc.EscapedPath() == r.EscapedPath()
}
